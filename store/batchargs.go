package store

import (
	"math/bits"
	"strconv"
	"strings"
)

// MaxPaddedBatch is the largest batch BatchArgs pads: the batched reads'
// loaders read at most 128 keys at once (coalesce.Config.MaxBatch), so
// their statements come in eight shapes (1, 2, 4, … 128 keys).
const MaxPaddedBatch = 128

// BatchArgs returns the arguments of a batched read of keys (at least
// one): before, then keys padded with keys[0] to the next power of two,
// one argument each; n is how many keys were passed. A key twice in an
// IN list or an array matches the rows it matches once (the engines
// read each once), so the padding changes nothing in the answer, and
// batches of nearby sizes share one statement text: one prepared
// statement each on SQLite, and on PostgreSQL a statement over an array
// of known length, whose generic plan PostgreSQL keeps (an array
// parameter, `= ANY($1)`, is planned anew on every execution).
func BatchArgs(before []any, keys []string) (args []any, n int) {
	n = 1 << bits.Len(uint(len(keys)-1))
	args = make([]any, len(before), len(before)+n)
	copy(args, before)
	for _, k := range keys {
		args = append(args, k)
	}
	for range n - len(keys) {
		args = append(args, keys[0])
	}
	return args, n
}

// Placeholders is a list of n placeholders, separated by ", ": "?"
// each when first is 0, else PostgreSQL's numbered ones from $first.
func Placeholders(n, first int) string {
	if first == 0 {
		return strings.Repeat("?, ", n-1) + "?"
	}
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(first + i))
	}
	return b.String()
}

// BatchTexts are the statement texts of one batched read, one for each
// number of keys BatchArgs pads to, made once.
type BatchTexts struct {
	first int
	build func(list string) string
	texts []string // for 1, 2, 4, … MaxPaddedBatch keys
}

// NewBatchTexts returns the texts build makes of each list of
// placeholders (Placeholders from first).
func NewBatchTexts(first int, build func(list string) string) *BatchTexts {
	t := &BatchTexts{first: first, build: build}
	for n := 1; n <= MaxPaddedBatch; n *= 2 {
		t.texts = append(t.texts, build(Placeholders(n, first)))
	}
	return t
}

// For is the text for n keys, as BatchArgs counted them (a power of two).
// Past MaxPaddedBatch it is made anew (a bounded set still: powers of two).
func (t *BatchTexts) For(n int) string {
	if i := bits.TrailingZeros(uint(n)); n == 1<<i && i < len(t.texts) {
		return t.texts[i]
	}
	return t.build(Placeholders(n, t.first))
}
