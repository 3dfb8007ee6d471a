package inputs

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The three places a user reads about inputs: action.yml (what the runner
// passes), Defs (what the binary reads and --help prints) and the README's
// input table. They are written by hand, so this test keeps them in step.

// actionInput is one input of action.yml.
type actionInput struct {
	Description string  `yaml:"description"`
	Required    bool    `yaml:"required"`
	Default     *string `yaml:"default"`
}

// loadActionInputs reads action.yml's inputs at the module root.
func loadActionInputs(t *testing.T) map[string]actionInput {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Inputs map[string]actionInput `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return meta.Inputs
}

// readmeRow is one row of the README's input table, cells as written
// (backticks stripped from single code spans).
type readmeRow struct {
	Flag, Default, Meaning string
	Line                   int
}

// unescapedPipe splits a Markdown table row: `\|` inside a cell is a literal
// pipe, as the outputs row of the table uses.
var unescapedPipe = regexp.MustCompile(`(^|[^\\])\|`)

// loadReadmeInputs parses the table under the README's "### Inputs" heading
// and returns its rows by input name, plus the README text.
func loadReadmeInputs(t *testing.T) (map[string]readmeRow, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	rows := map[string]readmeRow{}
	in := false
	for i, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
			in = strings.TrimSpace(line) == "### Inputs"
			continue
		case !in || !strings.HasPrefix(line, "| `"):
			continue
		}
		// Mark unescaped pipes, then split on the mark.
		marked := unescapedPipe.ReplaceAllString(line, "$1\x00")
		cells := strings.Split(strings.Trim(marked, "\x00 "), "\x00")
		if len(cells) != 4 {
			t.Fatalf("README.md:%d: input row has %d cells, want 4 (input, CLI flag, default, meaning): %q", i+1, len(cells), line)
		}
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		name := unquote(cells[0])
		if _, dup := rows[name]; dup {
			t.Errorf("README.md:%d: input %q listed twice", i+1, name)
		}
		rows[name] = readmeRow{Flag: unquote(cells[1]), Default: unquote(cells[2]), Meaning: cells[3], Line: i + 1}
	}
	if len(rows) == 0 {
		t.Fatal("README.md: no input table under \"### Inputs\"")
	}
	return rows, text
}

// unquote strips the backticks of a cell that is one code span.
func unquote(cell string) string {
	if strings.Count(cell, "`") == 2 && strings.HasPrefix(cell, "`") && strings.HasSuffix(cell, "`") {
		return cell[1 : len(cell)-1]
	}
	return cell
}

// isExpression reports whether an action.yml default is evaluated by the
// runner (e.g. ${{ github.token }}): the binary never sees it as a default.
func isExpression(v string) bool { return strings.Contains(v, "${{") }

func TestInputsAgree(t *testing.T) {
	t.Parallel()
	action := loadActionInputs(t)
	readme, readmeText := loadReadmeInputs(t)

	flags := map[string]bool{}
	var defined []string
	for _, d := range Defs {
		if d.Flag != "" {
			flags[d.Flag] = true
		}
		if d.Input != "" {
			defined = append(defined, d.Input)
		}
	}
	sorted := func(m any) []string {
		var out []string
		switch m := m.(type) {
		case map[string]actionInput:
			for k := range m {
				out = append(out, k)
			}
		case map[string]readmeRow:
			for k := range m {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return out
	}
	slices.Sort(defined)
	if got := sorted(action); !slices.Equal(got, defined) {
		t.Errorf("action.yml inputs differ from Defs:\naction.yml %q\nDefs       %q", got, defined)
	}
	if got := sorted(readme); !slices.Equal(got, defined) {
		t.Errorf("README input table differs from Defs:\nREADME %q\nDefs   %q", got, defined)
	}

	for _, d := range Defs {
		if d.Input == "" {
			// A CLI-only flag is named in the README's prose.
			if !strings.Contains(readmeText, "`--"+d.Flag) {
				t.Errorf("CLI-only flag --%s is not mentioned in README.md", d.Flag)
			}
			continue
		}
		t.Run(d.Input, func(t *testing.T) {
			t.Parallel()
			a, inAction := action[d.Input]
			r, inReadme := readme[d.Input]
			if !inAction || !inReadme {
				return // reported above
			}
			if strings.TrimSpace(a.Description) == "" {
				t.Errorf("action.yml: input %s has no description", d.Input)
			}
			if a.Required {
				t.Errorf("action.yml: input %s is required, but the binary has a default for every input", d.Input)
			}

			// action.yml's default is what the runner passes when the
			// workflow sets nothing: it must be the binary's own default.
			actionDefault := ""
			if a.Default != nil {
				actionDefault = *a.Default
			}
			switch {
			case isExpression(actionDefault):
				if d.Default != "" {
					t.Errorf("action.yml default %q is an expression, but Defs default to %q", actionDefault, d.Default)
				}
				if r.Default != actionDefault {
					t.Errorf("README.md:%d: default %q, want action.yml's %q", r.Line, r.Default, actionDefault)
				}
			case actionDefault != d.Default:
				t.Errorf("action.yml default %q, Defs default %q", actionDefault, d.Default)
			}

			// The README shows the default: the literal one, or, for a
			// default the binary computes, the one --help describes.
			switch {
			case d.Default != "" && r.Default != d.Default:
				t.Errorf("README.md:%d: default %q, want %q", r.Line, r.Default, d.Default)
			case d.Default == "" && r.Default != "" && !isExpression(r.Default) && !strings.Contains(d.Usage, r.Default):
				t.Errorf("README.md:%d: default %q, which the flag's help (%q) does not mention", r.Line, r.Default, d.Usage)
			}

			// The flag column names the input's own flag, or for inputs
			// without one (secret-files) a CLI flag that does the same.
			switch {
			case d.Flag != "" && r.Flag != "--"+d.Flag:
				t.Errorf("README.md:%d: CLI flag %q, want --%s", r.Line, r.Flag, d.Flag)
			case d.Flag == "" && r.Flag != "":
				name, _, _ := strings.Cut(strings.TrimPrefix(r.Flag, "--"), " ")
				if !strings.HasPrefix(r.Flag, "--") || !flags[name] {
					t.Errorf("README.md:%d: CLI flag cell %q names no flag of the CLI", r.Line, r.Flag)
				}
			}
			if r.Meaning == "" {
				t.Errorf("README.md:%d: no meaning given", r.Line)
			}
		})
	}
}

// TestReadmeTableParser keeps the table reader honest on the cases the
// README uses: escaped pipes, empty cells, code spans.
func TestReadmeTableParser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, line string
		want       []string
	}{
		{name: "plain", line: "| `context` | `--context` | `.` | build context directory |", want: []string{"`context`", "`--context`", "`.`", "build context directory"}},
		{name: "empty cells", line: "| `secrets` | | | `id=VALUE` |", want: []string{"`secrets`", "", "", "`id=VALUE`"}},
		{name: "escaped pipe", line: "| `outputs` | `--output` | | `type=image\\|oci` |", want: []string{"`outputs`", "`--output`", "", "`type=image\\|oci`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			marked := unescapedPipe.ReplaceAllString(tt.line, "$1\x00")
			cells := strings.Split(strings.Trim(marked, "\x00 "), "\x00")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			if !slices.Equal(cells, tt.want) {
				t.Errorf("cells %q, want %q", cells, tt.want)
			}
		})
	}
}
