package scene

// Colour is a named sRGB colour.
type Colour struct {
	Name    string
	R, G, B uint8
}

// Hex returns the colour as "#rrggbb".
func (c Colour) Hex() string {
	const digits = "0123456789abcdef"
	b := []byte{'#', 0, 0, 0, 0, 0, 0}
	for i, v := range []uint8{c.R, c.G, c.B} {
		b[1+2*i] = digits[v>>4]
		b[2+2*i] = digits[v&15]
	}
	return string(b)
}

// ObjectColours are the eight saturated, hue-distinct object colours:
//
//	red #e6194b, orange #f58231, yellow #ffe119, green #3cb44b,
//	cyan #42d4f4, blue #4363d8, purple #911eb4, pink #f032e6.
var ObjectColours = []Colour{
	{"red", 0xe6, 0x19, 0x4b},
	{"orange", 0xf5, 0x82, 0x31},
	{"yellow", 0xff, 0xe1, 0x19},
	{"green", 0x3c, 0xb4, 0x4b},
	{"cyan", 0x42, 0xd4, 0xf4},
	{"blue", 0x43, 0x63, 0xd8},
	{"purple", 0x91, 0x1e, 0xb4},
	{"pink", 0xf0, 0x32, 0xe6},
}

// BackgroundColours are low-saturation base colours for backgrounds. No
// saturated hue is ever used for a background.
var BackgroundColours = []Colour{
	{"charcoal", 0x2b, 0x2b, 0x2b},
	{"dark grey", 0x4a, 0x4a, 0x4a},
	{"grey", 0x80, 0x80, 0x80},
	{"light grey", 0xbd, 0xbd, 0xbd},
	{"off-white", 0xe8, 0xe8, 0xe3},
	{"beige", 0xd9, 0xcf, 0xb8},
	{"slate", 0x5b, 0x65, 0x73},
}

// Shapes are the six shape names.
var Shapes = []string{"circle", "square", "triangle", "star", "cross", "ring"}

// Size names and their nominal radii as a fraction of the image side.
const (
	SizeSmall = "small"
	SizeLarge = "large"

	radiusSmall = 0.085
	radiusLarge = 0.16
	radiusJit   = 0.08 // relative jitter, ±8%
)

// Relation names.
const (
	LeftOf  = "left of"
	RightOf = "right of"
	Above   = "above"
	Below   = "below"
)

// Relations lists the four relations in a fixed order.
var Relations = []string{LeftOf, RightOf, Above, Below}

// Background kinds and the word captions use for each.
const (
	BgPlain    = "plain"
	BgGradient = "gradient"
	BgNoise    = "noise"
)

var bgKinds = []string{BgPlain, BgGradient, BgNoise}

func bgWord(kind string) string {
	if kind == BgNoise {
		return "noisy"
	}
	return kind
}

func objectColour(name string) (Colour, bool) {
	for _, c := range ObjectColours {
		if c.Name == name {
			return c, true
		}
	}
	return Colour{}, false
}

func backgroundColour(name string) (Colour, bool) {
	for _, c := range BackgroundColours {
		if c.Name == name {
			return c, true
		}
	}
	return Colour{}, false
}

// inverse returns the converse relation (A left of B <=> B right of A).
func inverse(rel string) string {
	switch rel {
	case LeftOf:
		return RightOf
	case RightOf:
		return LeftOf
	case Above:
		return Below
	default:
		return Above
	}
}

func horizontal(rel string) bool { return rel == LeftOf || rel == RightOf }

// direction returns the unit vector from the object to the subject for
// "subject rel object" (image coordinates, y grows downwards).
func direction(rel string) (float64, float64) {
	switch rel {
	case LeftOf:
		return -1, 0
	case RightOf:
		return 1, 0
	case Above:
		return 0, -1
	default:
		return 0, 1
	}
}

// region returns the 3x3 region phrase for a point.
func region(x, y float64) string {
	col, row := 1, 1
	if x < 1.0/3 {
		col = 0
	} else if x > 2.0/3 {
		col = 2
	}
	if y < 1.0/3 {
		row = 0
	} else if y > 2.0/3 {
		row = 2
	}
	return regionPhrases[row*3+col]
}

var regionPhrases = []string{
	"at the top left", "at the top", "at the top right",
	"on the left", "in the centre", "on the right",
	"at the bottom left", "at the bottom", "at the bottom right",
}
