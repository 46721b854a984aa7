//go:build race

package storetest

// raceDetector reports whether the test binary runs under the race
// detector, which slows an adapter's database calls many times over.
const raceDetector = true
