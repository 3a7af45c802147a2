package authz

import "math/rand/v2"

// mutateEach calls check with n mutations of seeds, for the differential
// tests of the hand-written scanners: each is one of seeds with one to
// three bytes replaced, deleted or inserted, taken from alphabet, as drawn
// by a PCG generator seeded with s1 and s2 (the same cases every run).
func mutateEach(seeds []string, alphabet []byte, s1, s2 uint64, n int, check func(string)) {
	rng := rand.New(rand.NewPCG(s1, s2))
	for range n {
		b := []byte(seeds[rng.IntN(len(seeds))])
		for range 1 + rng.IntN(3) {
			if len(b) == 0 {
				b = append(b, alphabet[rng.IntN(len(alphabet))])
				continue
			}
			i := rng.IntN(len(b))
			switch rng.IntN(3) {
			case 0:
				b[i] = alphabet[rng.IntN(len(alphabet))]
			case 1:
				b = append(b[:i], b[i+1:]...)
			default:
				b = append(b[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
			}
		}
		check(string(b))
	}
}
