package report

import "testing"

func TestRollupDir(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"/app":                                "/",
		"/etc/passwd":                         "/etc/",
		"/usr/bin/ls":                         "/usr/bin/",
		"/usr/lib/python3.13/os.py":           "/usr/lib/python3.13/",
		"/usr/lib/python3.13/json/decoder.py": "/usr/lib/python3.13/",
	}
	for in, want := range tests {
		if got := RollupDir(in); got != want {
			t.Errorf("RollupDir(%q) = %q, want %q", in, got, want)
		}
	}
}
