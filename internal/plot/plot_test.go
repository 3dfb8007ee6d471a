package plot

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/goldentest"
)

var t0 = time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)

// builds makes n builds an hour and a half apart; PR builds every fifth,
// the one at marked (if >= 0) marked.
func builds(n, marked int) []Build {
	bs := make([]Build, n)
	for i := range bs {
		bs[i] = Build{ID: int64(1000 + i), Time: t0.Add(time.Duration(i) * 90 * time.Minute), Ref: "main",
			Commit: fmt.Sprintf("%040x", i), Href: fmt.Sprintf("https://github.com/o/r/actions/runs/%d", 1000+i)}
		switch {
		case i%5 == 4:
			bs[i].PR, bs[i].Ref = true, fmt.Sprint("PR #", i)
		case i == 7:
			bs[i].Ref = "release" // a push off the base branch: a point off the line
		default:
			bs[i].Base = true
		}
		bs[i].Marked = i == marked
	}
	return bs
}

const hostile = "<script>alert(1)</script>\"'&\u202Eevil\u0007" + "-very-long-name-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on"

func lineCases() []struct {
	name string
	s    Series
} {
	sizes := builds(12, 9)
	var pts []Point
	for i, b := range sizes {
		v2 := 80e6 + float64(i%3)*1e6
		if i == 3 {
			v2 = math.NaN() // a build without its second platform
		}
		pts = append(pts, Point{Build: b, Values: []float64{120e6 + float64(i)*2.5e6, v2}})
	}
	var hits []Point
	for i, b := range builds(7, 6) {
		hits = append(hits, Point{Build: b, Values: []float64{float64(i * 15)}})
	}
	evil := builds(3, 2)
	for i := range evil {
		evil[i].Ref, evil[i].Commit = hostile, "<b>"+hostile
		evil[i].Href = `https://github.com/o/r/actions/runs/1?"><script>x</script>`
	}
	var evilPts []Point
	for _, b := range evil {
		evilPts = append(evilPts, Point{Build: b, Values: []float64{1500}})
	}
	return []struct {
		name string
		s    Series
	}{
		{"size-two-platforms", Series{ID: "size", Title: "Image size (compressed)", Unit: Bytes, Names: []string{"linux/amd64", "linux/arm64"}, Points: pts}},
		{"hit-ratio", Series{ID: "hits", Title: "Cache hit ratio", Unit: Percent, Names: []string{""}, Points: hits}},
		{"one-build", Series{ID: "one", Title: "Image size", Unit: Bytes, Names: []string{"linux/amd64"}, Points: []Point{{Build: builds(1, 0)[0], Values: []float64{5e6}}}}},
		{"empty", Series{ID: "none", Title: "Image size", Unit: Bytes}},
		{"hostile", Series{ID: "evil", Title: hostile, Unit: Bytes, Names: []string{hostile}, Points: evilPts}},
	}
}

func barCases() []struct {
	name string
	s    Stack
} {
	var bars []Bar
	for i, b := range builds(10, 7) {
		bars = append(bars, Bar{Build: b, Values: []float64{float64(20000 + i*1000), 45000, math.NaN(), float64(i * 3000)}})
	}
	many := make([]string, 11)
	var manyBars []Bar
	for j := range many {
		many[j] = fmt.Sprint("stage-", j)
	}
	for _, b := range builds(4, -1) {
		vs := make([]float64, len(many))
		for j := range vs {
			vs[j] = float64((j + 1) * 1000)
		}
		manyBars = append(manyBars, Bar{Build: b, Values: vs})
	}
	var evil []Bar
	for _, b := range builds(2, 1) {
		b.Ref = hostile
		evil = append(evil, Bar{Build: b, Values: []float64{3e6}})
	}
	return []struct {
		name string
		s    Stack
	}{
		{"stages", Stack{ID: "stages", Title: "Duration by stage", Unit: Millis, Names: []string{"deps", "build", "test", "final"}, Bars: bars,
			Note: "Stages can run in parallel."}},
		{"many-stages", Stack{ID: "many", Title: "Duration by stage", Unit: Millis, Names: many, Bars: manyBars}},
		{"hostile-stage", Stack{ID: "evil", Title: "Duration", Unit: Millis, Names: []string{hostile}, Bars: evil, Note: hostile}},
		{"no-bars", Stack{ID: "none", Title: "Duration", Unit: Millis}},
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, name, got string, builds, marked int) {
		t.Helper()
		if n := strings.Count(got, "data-build="); n != builds {
			t.Errorf("%d data-build elements, want %d (one per build)", n, builds)
		}
		if n := strings.Count(got, `data-marked="true"`); n != marked {
			t.Errorf("%d marked elements, want %d", n, marked)
		}
		for _, bad := range []string{"<script", "\u202E", "\u0007", "style=", "javascript:"} {
			if strings.Contains(got, bad) {
				t.Errorf("output holds %q", bad)
			}
		}
		// Well-formed markup: every element closed, attributes quoted.
		d := xml.NewDecoder(strings.NewReader(got))
		d.Strict = true
		d.Entity = xml.HTMLEntity
		for {
			if _, err := d.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Errorf("not well-formed: %v", err)
				}
				break
			}
		}
		golden(t, name+".svg.html", []byte(got))
	}
	for _, c := range lineCases() {
		t.Run(c.name, func(t *testing.T) {
			marked := 0
			for _, p := range c.s.Points {
				if p.Build.Marked {
					marked++
				}
			}
			check(t, c.name, lines(c.s), len(c.s.Points), marked)
		})
	}
	for _, c := range barCases() {
		t.Run(c.name, func(t *testing.T) {
			marked := 0
			for _, b := range c.s.Bars {
				if b.Build.Marked {
					marked++
				}
			}
			check(t, c.name, bars(c.s), len(c.s.Bars), marked)
		})
	}
}

// lines and bars are a chart's markup as a page gets it.
func lines(s Series) string {
	var buf bytes.Buffer
	WriteLines(&buf, s)
	return buf.String()
}

func bars(s Stack) string {
	var buf bytes.Buffer
	WriteBars(&buf, s)
	return buf.String()
}

// TestPointTitles: each build's tooltip says date, ref, commit and value
// with its unit.
func TestPointTitles(t *testing.T) {
	t.Parallel()
	got := lines(lineCases()[0].s)
	want := "<title>2026-05-01 15:30 UTC · PR #4 · 0000000 · linux/amd64 130.0 MB, linux/arm64 81.0 MB</title>"
	if !strings.Contains(got, want) {
		t.Errorf("no %s in\n%s", want, got)
	}
	stacked := bars(barCases()[0].s)
	want = "<title>2026-05-01 09:30 UTC · main · 0000000 · total 1 min 5 s: build 45 s, deps 20 s</title>"
	if !strings.Contains(stacked, want) {
		t.Errorf("no %s in bars", want)
	}
	if n := len(regexp.MustCompile(`<a [^>]*tabindex="0"`).FindAllString(stacked, -1)); n != 10 {
		t.Errorf("%d focusable bars, want 10", n)
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		u    Unit
		v    float64
		want string
	}{
		{Bytes, 0, "0 B"}, {Bytes, 999, "999 B"}, {Bytes, 1500, "1.5 kB"}, {Bytes, 123456789, "123.5 MB"},
		{Bytes, 2.5e9, "2.5 GB"}, {Millis, 850, "850 ms"}, {Millis, 12345, "12 s"}, {Millis, 65000, "1 min 5 s"},
		{Millis, 3725000, "1 h 2 min"}, {Percent, 87.4, "87%"}, {Percent, math.NaN(), "none"},
	} {
		if got := c.u.Format(c.v); got != c.want {
			t.Errorf("Format(%v, %v) = %q, want %q", c.u, c.v, got, c.want)
		}
	}
	// Charts write formatted values unescaped: nothing in them may need it.
	for _, u := range []Unit{Bytes, Millis, Percent} {
		for _, v := range []float64{-1e13, -61e3, -1, 0, 0.5, 999, 1234.5, 59999, 61e3, 3725e3, 1e13, math.NaN(), math.Inf(1)} {
			if s := u.Format(v); html.EscapeString(s) != s {
				t.Errorf("Format(%v, %v) = %q needs escaping", u, v, s)
			}
		}
	}
}

func TestValueAxis(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		u      Unit
		lo, hi float64
		zero   bool
		want   string
	}{
		{"sizes", Bytes, 118e6, 152e6, false, "MB [110 120 130 140 150 160]"},
		{"durations from zero", Millis, 0, 185000, true, "min [0 1 2 3 4]"},
		{"seconds", Millis, 0, 42000, true, "s [0 10 20 30 40 50]"},
		{"flat", Bytes, 5e6, 5e6, false, "MB [4.6 4.8 5 5.2 5.4]"},
		{"percent", Percent, 3, 4, false, "% [0 25 50 75 100]"},
		{"nothing", Millis, 0, 0, true, "s [0 0.2 0.4 0.6 0.8 1]"},
	} {
		a := valueAxis(c.u, c.lo, c.hi, c.zero)
		var ls []string
		for _, v := range a.ticks {
			ls = append(ls, a.label(v))
		}
		if got := a.title() + " " + fmt.Sprint(ls); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestTimeTicks(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		span time.Duration
		want string
	}{
		{5 * time.Hour, "[May 1 10:00 May 1 11:00 May 1 12:00 May 1 13:00 May 1 14:00]"},
		{3 * 24 * time.Hour, "[May 1 12:00 May 2 00:00 May 2 12:00 May 3 00:00 May 3 12:00 May 4 00:00]"},
		{20 * 24 * time.Hour, "[May 4 May 11 May 18]"},
		{90 * 24 * time.Hour, "[May 11 May 25 Jun 8 Jun 22 Jul 6 Jul 20]"},
		{400 * 24 * time.Hour, "[Jul 2026 Sep 2026 Nov 2026 Jan 2027 Mar 2027 May 2027]"},
	} {
		ticks, layout := timeTicks(t0, t0.Add(c.span))
		var ls []string
		for _, tk := range ticks {
			ls = append(ls, tk.Format(layout))
		}
		if len(ls) > 7 || fmt.Sprint(ls) != c.want {
			t.Errorf("span %v: %v, want %s", c.span, ls, c.want)
		}
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"main":            "main",
		"a\u202Eb\x00c":   "a\uFFFDb\uFFFDc",
		"abcdefghij":      "abcde…",
		"bad\xffutf8":     "bad\uFFFDu…",
		"\u2067x\u2069yz": "\uFFFDx\uFFFDyz",
		"a\nb\tc":         "a b c",
		// Invisible format characters make look-alike names: removed.
		"ma\u200Bin":                      "main",
		"\uFEFFm\u2060a\u00ADin":          "main",
		"m\u200Ba\u200Bi\u200Bn\u200Bxyz": "mainx…",
	} {
		if got := Clean(in, 5); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// golden compares got with testdata/<file>, or rewrites it under -update.
func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	goldentest.Check(t, filepath.Join("testdata", file), got)
}

// TestEscapeTo: the escaping that writes straight into a page's buffer is
// html.EscapeString's, byte for byte.
func TestEscapeTo(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", hostile, `&amp;<>"'`, "a&b<c>d\"e'f", "\x00\u202E…·", strings.Repeat("<&>", 100)} {
		var b bytes.Buffer
		b.WriteString("prefix")
		EscapeTo(&b, s)
		if got, want := b.String(), "prefix"+html.EscapeString(s); got != want {
			t.Errorf("EscapeTo(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestAppendNum: coordinates are written as strconv writes them, ties and
// signs included.
func TestAppendNum(t *testing.T) {
	t.Parallel()
	xs := []float64{0, math.Copysign(0, -1), -0.04, -0.05, 0.05, 0.15, 0.25, 0.35, 1.25, 2.5, 12.45, 99.95, 959.95, -3.75,
		1e9, 1e12, -1e12, math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1)}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		xs = append(xs, (r.Float64()-0.1)*1000, float64(r.IntN(20000))/20-100, float64(r.IntN(100000))/100, r.NormFloat64()*1e6)
	}
	for _, x := range xs {
		if got, want := string(appendNum(nil, x)), strconv.FormatFloat(x, 'f', 1, 64); got != want {
			t.Fatalf("appendNum(%v) = %q, want %q", x, got, want)
		}
	}
}

// A duration axis from zero to any build's length, 1 ms to 10 h, has at
// least three distinct tick labels, in one unit that suits its top.
func TestDurationAxisLabels(t *testing.T) {
	t.Parallel()
	for top := 1.0; top <= 10*3600e3; top *= 1.3 {
		for _, zero := range []bool{true, false} {
			lo := 0.0
			if !zero {
				lo = top * 0.8
			}
			a := valueAxis(Millis, lo, top, zero)
			seen := map[string]bool{}
			for _, v := range a.ticks {
				seen[a.label(v)] = true
			}
			if len(seen) < 3 || len(seen) != len(a.ticks) {
				t.Errorf("%.0f ms (zero %v): %d distinct labels of %d ticks", top, zero, len(seen), len(a.ticks))
			}
			if top < 1000 && a.title() != "ms" {
				t.Errorf("%.0f ms: axis in %s, want ms", top, a.title())
			}
		}
	}
}
