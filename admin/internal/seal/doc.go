// Package seal encrypts values the admin surfaces keep or hand out but
// must not reveal: AES-256-GCM under a key derived from the system
// secret, each ciphertext bound to its row by associated data.
package seal
