package verdict

import (
	"testing"

	"github.com/stageline/stageline/internal/testing/reporttest"
)

func TestStatistics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		xs        []int64
		med, mad  float64
		band      float64
		headKinds map[int64]Kind
	}{
		// Odd count; one outlier moves neither median nor MAD much.
		{xs: []int64{10000, 11000, 9000, 10500, 60000}, med: 10500, mad: 500, band: 3 * 1.4826 * 500,
			headKinds: map[int64]Kind{12700: Within, 12800: Slower, 8200: Faster}},
		// Even count.
		{xs: []int64{100000, 102000, 98000, 104000}, med: 101000, mad: 2000, band: 3 * 1.4826 * 2000},
		// Identical durations: the relative floor.
		{xs: []int64{40000, 40000, 40000}, med: 40000, mad: 0, band: 2000,
			headKinds: map[int64]Kind{42000: Within, 42001: Slower}},
		// Sub-second stages: the absolute floor.
		{xs: []int64{100, 300, 200}, med: 200, mad: 100, band: 1000,
			headKinds: map[int64]Kind{1200: Within, 1201: Slower}},
	}
	for _, tt := range tests {
		med := Median(tt.xs)
		mad := MAD(tt.xs, med)
		if med != tt.med || mad != tt.mad {
			t.Errorf("%v: median %v, MAD %v; want %v, %v", tt.xs, med, mad, tt.med, tt.mad)
		}
		if b := Band(med, mad); b != tt.band {
			t.Errorf("%v: band %v, want %v", tt.xs, b, tt.band)
		}
		for head, want := range tt.headKinds {
			if got := Judge(head, tt.xs); got.Kind != want {
				t.Errorf("%v: head %d is %v, want %v", tt.xs, head, got.Kind, want)
			}
		}
	}
	if v := Judge(5, nil); v.Kind != NoHistory || v.N != 0 {
		t.Errorf("no history = %+v", v)
	}
}

// sample reads a recorded report's durations.
func sample(t *testing.T, name string) Sample {
	t.Helper()
	r, _ := reporttest.Fixture(t, name)
	s := Sample{DurationMS: r.Build.DurationMS}
	for _, st := range r.Stages {
		s.Stages = append(s.Stages, Stage{Name: st.Name, Platform: st.Platform, DurationMS: st.DurationMS})
	}
	return s
}

// scaled is s with every duration scaled by f (per-mille), as another run
// of the same build on a busier or quieter runner.
func scaled(s Sample, f map[string]int64, all int64) Sample {
	out := Sample{DurationMS: s.DurationMS * all / 1000}
	for _, st := range s.Stages {
		k := all
		if v, ok := f[st.Name]; ok {
			k = v
		}
		st.DurationMS = st.DurationMS * k / 1000
		out.Stages = append(out.Stages, st)
	}
	return out
}

// TestCompareRecordedReports seeds a noisy base-branch history from
// recorded reports (±12 % run-to-run) and judges PR builds against it.
func TestCompareRecordedReports(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"seed", "multiplatform", "grown"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := sample(t, name)
			var base []Sample
			for _, f := range []int64{1000, 1080, 940, 1120, 980, 1010, 900, 1060, 1030, 970} {
				base = append(base, scaled(rec, nil, f))
			}
			slowStage := rec.Stages[1] // a stage in the middle
			tests := []struct {
				name      string
				head      Sample
				slow      string // the one stage called slower, "" for none
				totalKind Kind
			}{
				{"inside the band", scaled(rec, nil, 1050), "", Within},
				{"a noisy but usual run", scaled(rec, nil, 1110), "", Within},
				{"one stage 3x slower", func() Sample {
					s := scaled(rec, nil, 1000)
					for i := range s.Stages {
						if s.Stages[i].Name == slowStage.Name && s.Stages[i].Platform == slowStage.Platform {
							s.Stages[i].DurationMS = 3*slowStage.DurationMS + 2000
							s.DurationMS += 2*slowStage.DurationMS + 2000
						}
					}
					return s
				}(), slowStage.Name + "@" + slowStage.Platform, Slower},
			}
			for _, tt := range tests {
				r := Compare(tt.head, base)
				if r.Builds != 10 || r.Few {
					t.Errorf("%s: builds %d few %v", tt.name, r.Builds, r.Few)
				}
				if r.Total.Kind != tt.totalKind {
					t.Errorf("%s: total %+v is %v, want %v", tt.name, r.Total, r.Total.Kind, tt.totalKind)
				}
				for _, v := range r.Stages {
					want := Within
					if v.Name+"@"+v.Platform == tt.slow {
						want = Slower
					}
					if v.Kind != want || v.N != 10 {
						t.Errorf("%s: stage %s@%s %+v is %v, want %v", tt.name, v.Name, v.Platform, v, v.Kind, want)
					}
				}
			}
		})
	}
}

func TestFewBuilds(t *testing.T) {
	t.Parallel()
	rec := sample(t, "seed")
	r := Compare(scaled(rec, nil, 1000), []Sample{scaled(rec, nil, 1000), scaled(rec, nil, 1100)})
	if !r.Few || r.Builds != 2 || r.Total.Kind != Within || r.Total.N != 2 {
		t.Errorf("two base builds = %+v", r)
	}
	// A stage the base builds never had.
	head := scaled(rec, nil, 1000)
	head.Stages = append(head.Stages, Stage{Name: "new", DurationMS: 5000})
	r = Compare(head, []Sample{rec})
	if last := r.Stages[len(r.Stages)-1]; last.Kind != NoHistory || last.Name != "new" {
		t.Errorf("new stage = %+v", last)
	}
	if r := Compare(head, nil); r.Total.Kind != NoHistory || !r.Few || r.Builds != 0 {
		t.Errorf("no base builds = %+v", r)
	}
}
