//go:build reliability

package main

import (
	"testing"
	"time"
)

// recoveryLimit is how soon after the database is back every answer must
// be right again.
const recoveryLimit = 2 * time.Second

// outageVerdict sorts the answers of the outage phase by when they were
// asked: before the stop (all must be right), while the database was down
// (right or 503 with Retry-After, none slower than hangLimit), and after
// it came back (right from recoveryLimit on).
type outageVerdict struct {
	before, down, after tally
	wrongBefore         []record
	wrongDown           []record // neither right nor 503 with Retry-After
	slow                []record // took longer than hangLimit
	wrongAfter          []record // not right recoveryLimit after the restart
	slowest             time.Duration
	// recovery is when, after the restart, the last answer that was not
	// right ended (0: none); firstWrite is when the first refresh (a
	// database write) after the restart succeeded.
	recovery, firstWrite time.Duration
	restartedAt          time.Time
}

func judgeOutage(recs []record, stopAt, restartedAt time.Time) *outageVerdict {
	v := &outageVerdict{before: tally{}, down: tally{}, after: tally{}, restartedAt: restartedAt, firstWrite: -1}
	for _, r := range recs {
		switch {
		case r.end.Before(stopAt):
			v.before.add(r)
			if !r.right {
				v.wrongBefore = append(v.wrongBefore, r)
			}
		case !r.start.After(restartedAt):
			v.down.add(r)
			if d := r.end.Sub(r.start); d > v.slowest {
				v.slowest = d
			}
			if r.end.Sub(r.start) >= hangLimit {
				v.slow = append(v.slow, r)
			}
			if !r.right && !(r.status == 503 && r.retryAfter) {
				v.wrongDown = append(v.wrongDown, r)
			}
		default:
			v.after.add(r)
			if !r.right {
				v.recovery = max(v.recovery, r.end.Sub(restartedAt))
				if r.start.Sub(restartedAt) >= recoveryLimit {
					v.wrongAfter = append(v.wrongAfter, r)
				}
			}
			if r.right && r.op == opRefresh && (v.firstWrite < 0 || r.end.Sub(restartedAt) < v.firstWrite) {
				v.firstWrite = r.end.Sub(restartedAt)
			}
		}
	}
	return v
}

func (v *outageVerdict) report(t *testing.T, origin time.Time) {
	t.Helper()
	t.Logf("outage: before the stop, %d answers by status %v", sum(v.before), v.before.statuses())
	t.Logf("outage: while down, %d answers by status %v (slowest %v); by op and status:\n%s",
		sum(v.down), v.down.statuses(), v.slowest.Round(time.Millisecond), v.down)
	t.Logf("outage: after the restart, %d answers by status %v; last wrong answer ended %v after the restart, first refresh succeeded %v after it",
		sum(v.after), v.after.statuses(), v.recovery.Round(time.Millisecond), v.firstWrite.Round(time.Millisecond))
	if len(v.wrongBefore) > 0 {
		t.Errorf("before the stop: %d wrong answers:\n%s", len(v.wrongBefore), wrongs(v.wrongBefore, 20, origin))
	}
	if len(v.wrongDown) > 0 {
		t.Errorf("while the database was down: %d answers neither right nor 503 with Retry-After:\n%s",
			len(v.wrongDown), wrongs(v.wrongDown, 20, origin))
	}
	if len(v.slow) > 0 {
		t.Errorf("while the database was down: %d requests took %v or more:\n%s", len(v.slow), hangLimit, wrongs(v.slow, 20, origin))
	}
	if len(v.wrongAfter) > 0 || v.recovery > recoveryLimit {
		t.Errorf("after the restart: service not whole within %v (last wrong answer at +%v):\n%s",
			recoveryLimit, v.recovery.Round(time.Millisecond), wrongs(v.wrongAfter, 20, origin))
	}
	if sum(v.after) == 0 || v.firstWrite < 0 {
		t.Errorf("after the restart: no refresh succeeded (%d answers)", sum(v.after))
	}
}

// sum is the number of answers in a tally.
func sum(tl tally) int {
	n := 0
	for _, c := range tl.statuses() {
		n += c
	}
	return n
}
