package depcheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestContractHasNoAnalysis keeps the analysis out of the contract: no
// function or method that internal/report exports takes two reports or two
// records of one kind (two file records), the shape of every comparison
// (Diff, Explain, FileChanges and their kin live in internal/compare,
// which works them out once per run).
func TestContractHasNoAnalysis(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "github.com/stageline/stageline/internal/report").CombinedOutput()
	if err != nil {
		t.Fatalf("go list internal/report: %v\n%s", err, out)
	}
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in internal/report (%v)", err)
	}
	fset := token.NewFileSet()
	funcs := 0
	for _, p := range files {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || !fn.Name.IsExported() {
				continue
			}
			funcs++
			records := map[string]int{}
			for _, field := range fn.Type.Params.List {
				if r := recordType(field.Type); r != "" {
					records[r] += max(1, len(field.Names))
				}
			}
			if fn.Recv != nil && len(fn.Recv.List) == 1 {
				if r := recordType(fn.Recv.List[0].Type); r != "" {
					records[r]++
				}
			}
			for r, n := range records {
				if n >= 2 {
					t.Errorf("%s: report.%s takes two %s: a comparison belongs in internal/compare", fset.Position(fn.Pos()), fn.Name.Name, r)
				}
			}
		}
	}
	if funcs < 5 {
		t.Fatalf("found %d exported functions in internal/report; expected its whole API", funcs)
	}
}

// recordType names a parameter's type when it is one of the contract's
// records: *Report or Report (a report), []FileEntry (a decoded file
// record); "" otherwise.
func recordType(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recordType(t.X)
	case *ast.Ident:
		if t.Name == "Report" {
			return "reports"
		}
	case *ast.ArrayType:
		if id, ok := t.Elt.(*ast.Ident); ok && t.Len == nil && id.Name == "FileEntry" {
			return "file records"
		}
	}
	return ""
}
