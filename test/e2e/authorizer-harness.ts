// The harness lives in test/support (the security suite and the benchmarks use it too); this keeps
// the e2e tests' imports short.
export * from '../support/authorizer-harness.js';
