/**
 * The test suite's operator token. Set in this process's environment when a helper is imported, so
 * what the tests start inherits it the way a deployment hands FAI_ADMIN_TOKEN to the service and to
 * its operators: apps built by testConfig, `fai` and service processes, and the runbooks' calls.
 * A test of the refusal sets FAI_ADMIN_TOKEN to '' (no token) or sends another one.
 */
export const TEST_ADMIN_TOKEN = 'test-operator-token-0123456789';
process.env.FAI_ADMIN_TOKEN ??= TEST_ADMIN_TOKEN;

/** The headers of an operator request (inject or fetch). */
export const OPERATOR = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } as const;
