/**
 * The security suites run in `npm test`; the out-of-process whole-suite scan
 * run by hand (test/security/suite-output.check.ts) runs mocha again in a child process
 * with FORD_SECURITY_CHILD set, and these suites then stand aside so the
 * child does not recurse into itself.
 */
export const IN_CHILD_RUN = process.env.FORD_SECURITY_CHILD === '1';

export const describeSecurity: Mocha.SuiteFunction = IN_CHILD_RUN ? (describe.skip as unknown as Mocha.SuiteFunction) : describe;
