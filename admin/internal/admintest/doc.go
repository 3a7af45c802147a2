// Package admintest is test support shared by the admin packages: a
// webhook receiver on loopback. Only _test.go files import it.
package admintest
