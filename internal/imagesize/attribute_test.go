package imagesize

import (
	"testing"

	"github.com/stageline/stageline/internal/dockerfile"
	"github.com/stageline/stageline/internal/report"
)

func TestAttribute(t *testing.T) {
	t.Parallel()
	src := `FROM golang AS build
WORKDIR /src
COPY . .
RUN go build -o /app .

FROM base AS runtime
RUN mkdir /data
COPY --from=build /app /app
CMD ["/app"]

FROM runtime AS final
COPY config.yaml /etc/
`
	df, err := dockerfile.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, target string
		createdBy    []string
		want         [][3]any // stage, line, instruction prefix
	}{
		{
			name:      "final stage on a stage on a base image",
			target:    "final",
			createdBy: []string{"ADD rootfs.tar /", "RUN mkdir /data", "COPY /app /app", "COPY config.yaml /etc/"},
			want:      [][3]any{{"", 0, ""}, {"runtime", 7, "RUN mkdir /data"}, {"runtime", 8, "COPY --from=build"}, {"final", 12, "COPY config.yaml"}},
		},
		{
			name:      "target in the middle",
			target:    "runtime",
			createdBy: []string{"ADD rootfs.tar /", "RUN mkdir /data", "COPY /app /app"},
			want:      [][3]any{{"", 0, ""}, {"runtime", 7, "RUN mkdir /data"}, {"runtime", 8, "COPY --from=build"}},
		},
		{
			name:      "base image layers with the same keyword stay unattributed",
			target:    "final",
			createdBy: []string{"RUN apt-get update", "COPY x /", "RUN mkdir /data", "COPY /app /app", "COPY config.yaml /etc/"},
			want:      [][3]any{{"", 0, ""}, {"", 0, ""}, {"runtime", 7, "RUN mkdir"}, {"runtime", 8, "COPY --from"}, {"final", 12, "COPY config"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			img := report.Image{}
			for _, c := range tt.createdBy {
				img.Layers = append(img.Layers, report.Layer{CreatedBy: c})
			}
			Attribute(&img, df, tt.target)
			for i, w := range tt.want {
				l := img.Layers[i]
				if l.Stage != w[0] || l.Line != w[1] || len(l.Instruction) < len(w[2].(string)) || l.Instruction[:len(w[2].(string))] != w[2] {
					t.Errorf("layer %d (%s) = stage %q line %d %q, want %v", i, l.CreatedBy, l.Stage, l.Line, l.Instruction, w)
				}
			}
		})
	}
}

func TestCleanCreatedBy(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"RUN /bin/sh -c echo hi > /x # buildkit": "RUN echo hi > /x",
		"COPY /build.txt /build.txt # buildkit":  "COPY /build.txt /build.txt",
		"/bin/sh -c #(nop) ADD file:abc in / ":   "ADD file:abc in /",
		"WORKDIR /app":                           "WORKDIR /app",
	}
	for in, want := range tests {
		if got := cleanCreatedBy(in); got != want {
			t.Errorf("cleanCreatedBy(%q) = %q, want %q", in, got, want)
		}
	}
}
