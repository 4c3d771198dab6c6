package auth_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"qorgan/internal/auth"
)

// TestEveryAuditedActionIsListed reads Qorgan's source (every package,
// commands included) and resolves the action of every call to auth.Append,
// under whatever name the file imports auth: a string literal, a variable
// declared or set from literals in the same function, a parameter whose
// callers (any function of that name in the tree) pass literals, or a
// concatenation of those. Every action found must be in auth.Actions (so
// the audit page can name it and offer it in its filter), and every listed
// action must be written somewhere. An action the test cannot resolve fails
// it, naming the place: pass a literal there. (A closure's parameter that
// hides its function's, or a helper taking Append as a value, would go
// unseen; Qorgan has neither.)
func TestEveryAuditedActionIsListed(t *testing.T) {
	found := map[string][]string{} // action → where
	fset := token.NewFileSet()
	pkgs := map[string][]*ast.File{} // folder → its non-test files
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "../.." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		pkgs[filepath.Dir(path)] = append(pkgs[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var all []*ast.File
	for _, files := range pkgs {
		all = append(all, files...)
	}
	calls := 0
	for dir, files := range pkgs {
		for _, f := range files {
			r := resolver{fset: fset, files: all, inAuth: dir == filepath.Join("..", "..", "internal", "auth"), authName: importName(f, "qorgan/internal/auth")}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || !r.isAppend(call) || len(call.Args) < 5 {
					return true
				}
				calls++
				where := fset.Position(call.Pos()).String()
				vals, ok := r.values(call.Args[4], enclosing(f, call.Pos()), 0)
				if !ok || len(vals) == 0 {
					t.Errorf("%s: cannot tell which action this audit entry records; pass a string literal", where)
				}
				for _, v := range vals {
					found[v] = append(found[v], where)
				}
				return true
			})
		}
	}
	if calls < 30 {
		t.Fatalf("found only %d calls of auth.Append in the source: the test is not reading it", calls)
	}
	for a, where := range found {
		if !slices.Contains(auth.Actions, a) {
			t.Errorf("action %q (written at %s) is not in auth.Actions", a, strings.Join(where, ", "))
		}
	}
	for _, a := range auth.Actions {
		if found[a] == nil {
			t.Errorf("auth.Actions lists %q, but nothing in the source writes it", a)
		}
	}
}

// resolver finds the string values an expression can have, looking for
// callers in files.
type resolver struct {
	fset     *token.FileSet
	files    []*ast.File
	inAuth   bool   // the file is package auth's own
	authName string // the name the file imports package auth under; "" when it does not
}

// importName is the name f imports path under, "" when it does not.
func importName(f *ast.File, path string) string {
	for _, im := range f.Imports {
		if p, _ := strconv.Unquote(im.Path.Value); p == path {
			if im.Name != nil {
				return im.Name.Name
			}
			return filepath.Base(path)
		}
	}
	return ""
}

func (r resolver) isAppend(call *ast.CallExpr) bool {
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		x, ok := fn.X.(*ast.Ident)
		return ok && r.authName != "" && x.Name == r.authName && fn.Sel.Name == "Append"
	case *ast.Ident:
		return r.inAuth && fn.Name == "Append"
	}
	return false
}

// values returns what e can be inside fn; false when it cannot tell.
func (r resolver) values(e ast.Expr, fn *ast.FuncDecl, depth int) ([]string, bool) {
	if depth > 3 {
		return nil, false
	}
	switch e := e.(type) {
	case *ast.BasicLit:
		s, err := strconv.Unquote(e.Value)
		return []string{s}, err == nil && e.Kind == token.STRING
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return nil, false
		}
		xs, ok1 := r.values(e.X, fn, depth)
		ys, ok2 := r.values(e.Y, fn, depth)
		var out []string
		for _, x := range xs {
			for _, y := range ys {
				out = append(out, x+y)
			}
		}
		return out, ok1 && ok2
	case *ast.Ident:
		if fn == nil {
			return nil, false
		}
		if i := paramIndex(fn, e.Name); i >= 0 {
			return r.argsOf(fn.Name.Name, i, depth)
		}
		var out []string
		ok := true
		set := func(v ast.Expr) {
			vs, vok := r.values(v, fn, depth+1)
			out, ok = append(out, vs...), ok && vok
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					if id, isID := l.(*ast.Ident); isID && id.Name == e.Name {
						if n.Tok != token.ASSIGN && n.Tok != token.DEFINE || i >= len(n.Rhs) {
							ok = false // +=, or a value from a call with many results
							continue
						}
						set(n.Rhs[i])
					}
				}
			case *ast.ValueSpec: // var action = "…"
				for i, id := range n.Names {
					if id.Name == e.Name && i < len(n.Values) {
						set(n.Values[i])
					}
				}
			}
			return true
		})
		return out, ok && len(out) > 0
	}
	return nil, false
}

// argsOf returns the values passed as argument i to every call of a
// function or method named name in the tree.
func (r resolver) argsOf(name string, i, depth int) ([]string, bool) {
	var out []string
	ok, calls := true, 0
	for _, f := range r.files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, isCall := n.(*ast.CallExpr)
			if !isCall {
				return true
			}
			var called string
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				called = fn.Name
			case *ast.SelectorExpr:
				called = fn.Sel.Name
			}
			if called != name || i >= len(call.Args) {
				return true
			}
			calls++
			vs, vok := r.values(call.Args[i], enclosing(f, call.Pos()), depth+1)
			out, ok = append(out, vs...), ok && vok
			return true
		})
	}
	return out, ok && calls > 0
}

// paramIndex is the position of the parameter named name in fn's
// parameters (the receiver not counted), or -1.
func paramIndex(fn *ast.FuncDecl, name string) int {
	i := 0
	for _, field := range fn.Type.Params.List {
		if len(field.Names) == 0 {
			i++
		}
		for _, n := range field.Names {
			if n.Name == name {
				return i
			}
			i++
		}
	}
	return -1
}

// enclosing is the function declaration of f that holds pos.
func enclosing(f *ast.File, pos token.Pos) *ast.FuncDecl {
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Body != nil && fn.Pos() <= pos && pos < fn.End() {
			return fn
		}
	}
	return nil
}
