package scene

// Ceiling is the best text->image R@1 (in percent) that any model can reach on a
// dataset under the Flickr30k protocol, where each caption has exactly one
// correct image: a caption that is also true of n-1 other images of the
// gallery ranks its own image first with probability 1/n at best.
type Ceiling struct {
	Captions int `json:"captions"`
	// R1 is the expected R@1 of a perfect model that breaks ties at random.
	R1 float64 `json:"r1"`
	// ByObjects is R1 per number of objects in the caption's own scene.
	ByObjects map[int]float64 `json:"by_objects"`
	// Ambiguous counts captions that hold for more than their own image.
	Ambiguous int `json:"ambiguous"`
}

// MeasureCeiling computes the [Ceiling] of ds. Each caption is parsed once and
// checked against every scene, so the cost is captions x images claim checks.
// Captions that do not parse are counted as unique (they hold for no scene).
func MeasureCeiling(ds Dataset) Ceiling {
	c := Ceiling{ByObjects: map[int]float64{}}
	sum, count := map[int]float64{}, map[int]int{}
	var total float64
	for i, rec := range ds.Images {
		k := len(rec.Scene.Objects)
		for _, s := range rec.Sentences {
			n := 1
			if cl, ok := parse(s.Raw); ok {
				for j, other := range ds.Images {
					if j != i && cl.holds(other.Scene) {
						n++
					}
				}
			}
			if n > 1 {
				c.Ambiguous++
			}
			total += 1 / float64(n)
			sum[k] += 1 / float64(n)
			count[k]++
			c.Captions++
		}
	}
	if c.Captions > 0 {
		c.R1 = 100 * total / float64(c.Captions)
	}
	for k, v := range sum {
		c.ByObjects[k] = 100 * v / float64(count[k])
	}
	return c
}
