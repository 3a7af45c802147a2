//go:build !linux

package main

// dropStartupPages is Linux's only (exepages_linux.go).
func dropStartupPages() int64 { return 0 }
