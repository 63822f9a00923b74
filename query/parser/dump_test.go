package parser

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// dump writes the AST as an indented tree of typed nodes. Zero strings,
// false flags, nil nodes and empty lists are left out; positions are shown as
// @line:col when withPos is set. Two queries with equal dumps (withPos false)
// have equal ASTs.
func dump(q *Query, withPos bool) string {
	d := dumper{pos: withPos}
	d.node(reflect.ValueOf(q), 0)
	return d.b.String()
}

type dumper struct {
	b   strings.Builder
	pos bool
}

var posType = reflect.TypeFor[Pos]()

func fmtPos(p Pos) string { return "@" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col) }

// node writes a struct (behind any pointers or interfaces) from the current
// position of the line on.
func (d *dumper) node(v reflect.Value, indent int) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			d.b.WriteString("nil\n")
			return
		}
		v = v.Elem()
	}
	t := v.Type()
	d.b.WriteString(t.Name())
	if f := v.FieldByName("Pos"); f.IsValid() && f.Type() == posType && d.pos {
		d.b.WriteString(" " + fmtPos(f.Interface().(Pos)))
	}
	if l, ok := v.Addr().Interface().(*Literal); ok {
		d.b.WriteString(" " + l.Kind.String())
		switch l.Kind {
		case LitBool:
			d.b.WriteString(" " + strconv.FormatBool(l.Bool))
		case LitInt:
			d.b.WriteString(" " + strconv.FormatInt(l.Int, 10))
		case LitFloat:
			d.b.WriteString(" " + strconv.FormatFloat(l.Float, 'g', -1, 64))
		case LitString:
			d.b.WriteString(" " + strconv.Quote(l.Str))
		}
		d.b.WriteByte('\n')
		return
	}
	d.b.WriteByte('\n')
	pad := strings.Repeat("  ", indent+1)
	for i := 0; i < t.NumField(); i++ {
		sf, f := t.Field(i), v.Field(i)
		if sf.Name == "Pos" {
			continue
		}
		if sf.Type == posType {
			if d.pos && !f.IsZero() {
				d.b.WriteString(pad + sf.Name + ": " + fmtPos(f.Interface().(Pos)) + "\n")
			}
			continue
		}
		switch f.Kind() {
		case reflect.String, reflect.Bool, reflect.Slice, reflect.Pointer, reflect.Interface:
			if f.IsZero() || f.Kind() == reflect.Slice && f.Len() == 0 {
				continue
			}
		}
		switch f.Kind() {
		case reflect.Slice:
			for j := 0; j < f.Len(); j++ {
				d.b.WriteString(fmt.Sprintf("%s%s[%d]: ", pad, sf.Name, j))
				d.node(f.Index(j), indent+1)
			}
		case reflect.Pointer:
			if f.Elem().Kind() == reflect.Int {
				d.b.WriteString(fmt.Sprintf("%s%s: %d\n", pad, sf.Name, f.Elem().Int()))
				continue
			}
			d.b.WriteString(pad + sf.Name + ": ")
			d.node(f, indent+1)
		case reflect.Interface, reflect.Struct:
			d.b.WriteString(pad + sf.Name + ": ")
			d.node(f, indent+1)
		case reflect.String:
			d.b.WriteString(pad + sf.Name + ": " + strconv.Quote(f.String()) + "\n")
		default:
			d.b.WriteString(fmt.Sprintf("%s%s: %v\n", pad, sf.Name, f.Interface()))
		}
	}
}
