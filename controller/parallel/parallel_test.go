package parallel_test

import (
	"sync/atomic"
	"testing"

	"github.com/external-haproxy/kit/controller/parallel"
)

func TestForRunsEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 1000} {
		runs := make([]atomic.Int32, n)
		parallel.For(n, func(i int) { runs[i].Add(1) })
		for i := range runs {
			if got := runs[i].Load(); got != 1 {
				t.Fatalf("n=%d: index %d ran %d times, want once", n, i, got)
			}
		}
	}
}
