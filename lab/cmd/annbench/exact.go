package main

import (
	"runtime"
	"slices"
	"sync"

	"github.com/viterin/vek/vek32"
)

// topK returns the ids of the k largest inner products of q with the rows
// of base (n*dim), best first.
func topK(base, q []float32, dim, k int) []int32 {
	type hit struct {
		s  float32
		id int32
	}
	best := make([]hit, 0, k+1)
	worst := float32(-2)
	for i := 0; i*dim < len(base); i++ {
		s := vek32.Dot(q, base[i*dim:(i+1)*dim])
		if len(best) == k && s <= worst {
			continue
		}
		j, _ := slices.BinarySearchFunc(best, s, func(h hit, s float32) int {
			if h.s > s {
				return -1
			}
			return 1
		})
		best = slices.Insert(best, j, hit{s, int32(i)})
		if len(best) > k {
			best = best[:k]
		}
		worst = best[len(best)-1].s
	}
	out := make([]int32, len(best))
	for i, h := range best {
		out[i] = h.id
	}
	return out
}

// groundTruth computes the exact top k of every query on all cores.
func groundTruth(base, queries []float32, dim, k int) [][]int32 {
	nq := len(queries) / dim
	gt := make([][]int32, nq)
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				gt[i] = topK(base, queries[i*dim:(i+1)*dim], dim, k)
			}
		})
	}
	for i := range nq {
		next <- i
	}
	close(next)
	wg.Wait()
	return gt
}

// recallAt10 is the mean share of gt's first 10 found in got.
func recallAt10(gt [][]int32, got [][]int32) float64 {
	hit, total := 0, 0
	for i := range gt {
		want := gt[i][:min(10, len(gt[i]))]
		for _, w := range want {
			if slices.Contains(got[i], w) {
				hit++
			}
		}
		total += len(want)
	}
	return float64(hit) / float64(total)
}
