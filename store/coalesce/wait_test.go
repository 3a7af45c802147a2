package coalesce

import "runtime"

// waitABit yields to the goroutines a test is waiting for.
func waitABit() { runtime.Gosched() }
