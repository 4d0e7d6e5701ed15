// Package browsertest drives Parley in a headless Chromium for tests, with
// chromedp: it starts the browser (or skips the test when the machine has
// none), opens tabs in separate browser contexts, runs steps with bounded
// waits, records the console to fail on uncaught exceptions and CSP
// violations, saves screenshots for people to look at, and signs in
// through the login form.
//
// It is test support: only _test.go files import it. Every helper takes
// the *testing.T and fails the test on error, so a test reads as its steps.
package browsertest
