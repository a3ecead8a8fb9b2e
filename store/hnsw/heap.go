package hnsw

// item is a node slot with its distance to the query (negated inner
// product: smaller is closer).
type item struct {
	d float32
	s uint32
}

// minHeap pops the closest item first (the candidate queue).
type minHeap []item

func (h *minHeap) push(it item) {
	*h = append(*h, it)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].d <= a[i].d {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *minHeap) pop() item {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	siftDownMin(a)
	*h = a
	return top
}

// maxHeap keeps the farthest item on top (the bounded result set).
type maxHeap []item

func (h *maxHeap) push(it item) {
	*h = append(*h, it)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].d >= a[i].d {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *maxHeap) pop() item {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	siftDownMax(a)
	*h = a
	return top
}

func siftDownMin(a []item) {
	i, n := 0, len(a)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if r := c + 1; r < n && a[r].d < a[c].d {
			c = r
		}
		if a[c].d >= a[i].d {
			return
		}
		a[i], a[c] = a[c], a[i]
		i = c
	}
}

func siftDownMax(a []item) {
	i, n := 0, len(a)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if r := c + 1; r < n && a[r].d > a[c].d {
			c = r
		}
		if a[c].d <= a[i].d {
			return
		}
		a[i], a[c] = a[c], a[i]
		i = c
	}
}
