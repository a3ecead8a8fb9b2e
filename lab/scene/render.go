package scene

import (
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"strconv"
)

const (
	samplesPerAxis = 4    // supersampling grid per pixel (4x4)
	noiseAmplitude = 22.0 // value-noise amplitude in 8-bit levels
	squareHalf     = 0.78 // square half-side in units of R
	triRadius      = 1.1  // triangle circumradius in units of R
	sqrt3          = 1.7320508075688772
	crossHalf      = 0.32 // half-width of a cross arm in units of R
	ringHole       = 0.55 // ring hole radius in units of R
)

// starVertices is the 5-pointed star (outer radius 1.08, inner 0.44, first
// point straight up) as literals so that no trigonometry runs at render time.
var starVertices = [10][2]float64{
	{0, -1.08},
	{0.25862551100868825, -0.35596747752497687},
	{1.027141037598766, -0.33373835392494322},
	{0.41846486716986758, 0.13596747752497684},
	{0.63480807247587112, 0.87373835392494326},
	{0, 0.44},
	{-0.63480807247587112, 0.87373835392494326},
	{-0.41846486716986758, 0.13596747752497684},
	{-1.027141037598766, -0.33373835392494322},
	{-0.25862551100868825, -0.35596747752497687},
}

// insideShape reports whether (u, v), in units of the object radius relative
// to its centre (v grows downwards), is inside the shape.
func insideShape(shape string, u, v float64) bool {
	au, av := math.Abs(u), math.Abs(v)
	switch shape {
	case "square":
		return au <= squareHalf && av <= squareHalf
	case "triangle":
		return v <= triRadius/2 && float64(au*sqrt3) <= v+triRadius
	case "star":
		return insidePolygon(starVertices[:], u, v)
	case "cross":
		return (au <= crossHalf && av <= 1) || (av <= crossHalf && au <= 1)
	case "ring":
		d2 := float64(u*u) + float64(v*v)
		return d2 <= 1 && d2 >= ringHole*ringHole
	}
	return float64(u*u)+float64(v*v) <= 1 // circle
}

// insidePolygon is the even-odd rule.
func insidePolygon(pts [][2]float64, x, y float64) bool {
	in := false
	j := len(pts) - 1
	for i := range pts {
		xi, yi, xj, yj := pts[i][0], pts[i][1], pts[j][0], pts[j][1]
		if (yi > y) != (yj > y) {
			t := float64((xj-xi)*(y-yi)) / (yj - yi)
			if x < t+xi {
				in = !in
			}
		}
		j = i
	}
	return in
}

// insidePoint returns a point (as image fractions) known to be inside the
// object's shape: the centre, or the middle of the band for a ring.
func insidePoint(o Object) (float64, float64) {
	if o.Shape == "ring" {
		return o.X + float64(o.R*(1+ringHole)/2), o.Y
	}
	return o.X, o.Y
}

func parseHex(h string) ([3]float64, error) {
	if len(h) != 7 || h[0] != '#' {
		return [3]float64{}, fmt.Errorf("bad colour %q", h)
	}
	v, err := strconv.ParseUint(h[1:], 16, 32)
	if err != nil {
		return [3]float64{}, fmt.Errorf("bad colour %q: %w", h, err)
	}
	return [3]float64{float64(v >> 16 & 255), float64(v >> 8 & 255), float64(v & 255)}, nil
}

// Render draws the scene as a size x size opaque image. Backgrounds are
// evaluated at pixel centres; shapes are anti-aliased with 4x4 supersampling.
func Render(s Scene, size int) (*image.RGBA, error) {
	buf := make([]float64, size*size*3)
	if err := drawBackground(buf, s.Background, size); err != nil {
		return nil, fmt.Errorf("render background: %w", err)
	}
	for i, o := range s.Objects {
		c, ok := objectColour(o.Color)
		if !ok {
			return nil, fmt.Errorf("render object %d: unknown colour %q", i, o.Color)
		}
		drawObject(buf, o, [3]float64{float64(c.R), float64(c.G), float64(c.B)}, size)
	}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for p := range size * size {
		for ch := range 3 {
			v := buf[3*p+ch]
			switch {
			case v <= 0:
				img.Pix[4*p+ch] = 0
			case v >= 255:
				img.Pix[4*p+ch] = 255
			default:
				img.Pix[4*p+ch] = uint8(v + 0.5) // round half up; v > 0
			}
		}
		img.Pix[4*p+3] = 255
	}
	return img, nil
}

func drawBackground(buf []float64, bg Background, size int) error {
	cols := make([][3]float64, len(bg.Colors))
	for i, h := range bg.Colors {
		c, err := parseHex(h)
		if err != nil {
			return err
		}
		cols[i] = c
	}
	if len(cols) == 0 {
		return fmt.Errorf("background has no colours")
	}
	var lat [][]float64
	if bg.Kind == BgNoise {
		lat = noiseLattices(bg.NoiseSeed)
	}
	fs := float64(size)
	for py := range size {
		y := (float64(py) + 0.5) / fs
		for px := range size {
			x := (float64(px) + 0.5) / fs
			c := cols[0]
			switch bg.Kind {
			case BgGradient:
				if len(cols) < 2 || len(bg.Direction) != 2 {
					return fmt.Errorf("gradient needs 2 colours and a direction")
				}
				dx, dy := bg.Direction[0], bg.Direction[1]
				span := float64(math.Abs(dx)*0.5) + float64(math.Abs(dy)*0.5)
				t := 0.5 + (float64((x-0.5)*dx)+float64((y-0.5)*dy))/float64(2*span)
				for ch := range 3 {
					c[ch] = cols[0][ch] + float64((cols[1][ch]-cols[0][ch])*t)
				}
			case BgNoise:
				n := float64(noiseAt(lat, x, y) * noiseAmplitude)
				for ch := range 3 {
					c[ch] += n
				}
			}
			copy(buf[3*(py*size+px):], c[:])
		}
	}
	return nil
}

// noiseOctaves are the lattice cell counts across the image and weights.
var noiseOctaves = []struct {
	cells  int
	weight float64
}{{3, 1.0 / 1.75}, {6, 0.5 / 1.75}, {12, 0.25 / 1.75}}

func noiseLattices(seed uint64) [][]float64 {
	out := make([][]float64, len(noiseOctaves))
	for o, oct := range noiseOctaves {
		n := oct.cells + 1
		out[o] = make([]float64, n*n)
		for i := range out[o] {
			out[o][i] = float64(unitFloat(hash3(seed, uint64(o), uint64(i)))*2) - 1
		}
	}
	return out
}

func smooth(t float64) float64 { return float64(t*t) * (3 - float64(2*t)) }

// noiseAt is smooth value noise in [-1, 1].
func noiseAt(lat [][]float64, x, y float64) float64 {
	sum := 0.0
	for o, oct := range noiseOctaves {
		n := oct.cells + 1
		gx, gy := float64(x*float64(oct.cells)), float64(y*float64(oct.cells))
		ix, iy := int(gx), int(gy)
		ix, iy = min(ix, oct.cells-1), min(iy, oct.cells-1)
		tx, ty := smooth(gx-float64(ix)), smooth(gy-float64(iy))
		l := lat[o]
		a := l[iy*n+ix] + float64((l[iy*n+ix+1]-l[iy*n+ix])*tx)
		b := l[(iy+1)*n+ix] + float64((l[(iy+1)*n+ix+1]-l[(iy+1)*n+ix])*tx)
		v := a + float64((b-a)*ty)
		sum += float64(v * oct.weight)
	}
	return sum
}

func drawObject(buf []float64, o Object, col [3]float64, size int) {
	fs := float64(size)
	cx, cy, r := float64(o.X*fs), float64(o.Y*fs), float64(o.R*fs)
	e := float64(r*extent) + 1
	x0, x1 := max(0, int(math.Floor(cx-e))), min(size-1, int(math.Ceil(cx+e)))
	y0, y1 := max(0, int(math.Floor(cy-e))), min(size-1, int(math.Ceil(cy+e)))
	const n = samplesPerAxis
	reach := float64(r*extent) + 0.75 // beyond this no sample can hit
	reach2 := float64(reach * reach)
	for py := y0; py <= y1; py++ {
		dy := float64(py) + 0.5 - cy
		for px := x0; px <= x1; px++ {
			dx := float64(px) + 0.5 - cx
			if float64(dx*dx)+float64(dy*dy) > reach2 {
				continue
			}
			hits := 0
			for sy := range n {
				v := (float64(py) + (float64(sy)+0.5)/n - cy) / r
				for sx := range n {
					u := (float64(px) + (float64(sx)+0.5)/n - cx) / r
					if insideShape(o.Shape, u, v) {
						hits++
					}
				}
			}
			if hits == 0 {
				continue
			}
			cov := float64(hits) / (n * n)
			p := buf[3*(py*size+px):]
			for ch := range 3 {
				p[ch] += float64((col[ch] - p[ch]) * cov)
			}
		}
	}
}

// Encode writes img as "png" or "jpeg" (quality 92).
func Encode(w io.Writer, img image.Image, format string) error {
	switch format {
	case "png":
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := enc.Encode(w, img); err != nil {
			return fmt.Errorf("encode png: %w", err)
		}
	case "jpeg":
		if err := jpeg.Encode(w, img, &jpeg.Options{Quality: 92}); err != nil {
			return fmt.Errorf("encode jpeg: %w", err)
		}
	default:
		return fmt.Errorf("unknown image format %q (want png or jpeg)", format)
	}
	return nil
}
