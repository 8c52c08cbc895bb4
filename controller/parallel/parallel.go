// Package parallel runs the independent steps of a build or a render on
// every core: the parse of each Ingress, the policy of each backend, the
// ID of each route's policy, each tens of thousands on large clusters.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For runs do(i) for every i in [0, n), on as many goroutines as there are
// cores, and returns when all are done. do must be safe to run
// concurrently for distinct i.
func For(n int, do func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			do(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				do(i)
			}
		})
	}
	wg.Wait()
}
