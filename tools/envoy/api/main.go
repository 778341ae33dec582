// Dumps the Envoy v3 API that github.com/envoyproxy/go-control-plane/envoy (generated from Envoy's
// data-plane-api at the Envoy release of the same version) carries in its compiled file descriptors, as the
// protobufjs JSON namespace tools/envoy/validate.ts loads. Field options keep what the validator checks:
// protoc-gen-validate rules flattened as protobufjs names them ("(validate.rules).string.min_len"), oneof
// "(validate.required)", `deprecated`, Envoy's "(envoy.annotations.disallowed_by_default)" and json_name.
// Run through regenerate.sh, which writes imports.go (one blank import per API package) first.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/envoyproxy/go-control-plane/envoy/annotations"
	"github.com/envoyproxy/protoc-gen-validate/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

type obj = map[string]any

// namespace returns (creating) the protobufjs namespace object for a dotted package name.
func namespace(root obj, pkg string) obj {
	cur := root
	if pkg == "" {
		return cur
	}
	for _, part := range strings.Split(pkg, ".") {
		nested, _ := cur["nested"].(obj)
		if nested == nil {
			nested = obj{}
			cur["nested"] = nested
		}
		next, _ := nested[part].(obj)
		if next == nil {
			next = obj{}
			nested[part] = next
		}
		cur = next
	}
	return cur
}

func add(parent obj, name string, v obj) {
	nested, _ := parent["nested"].(obj)
	if nested == nil {
		nested = obj{}
		parent["nested"] = nested
	}
	if old, ok := nested[name].(obj); ok {
		// A namespace created earlier for a nested path keeps its children.
		for k, x := range old {
			if _, set := v[k]; !set {
				v[k] = x
			}
		}
	}
	nested[name] = v
}

func typeName(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return "." + string(fd.Message().FullName())
	case protoreflect.EnumKind:
		return "." + string(fd.Enum().FullName())
	}
	return fd.Kind().String()
}

func camel(s string) string {
	var b strings.Builder
	up := false
	for _, r := range s {
		if r == '_' {
			up = true
			continue
		}
		if up && r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		up = false
		b.WriteRune(r)
	}
	return b.String()
}

// flatten writes the set fields of an option message as protobufjs' flattened option keys.
func flatten(prefix string, m protoreflect.Message, out obj) {
	empty := true
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		empty = false
		key := prefix + "." + string(fd.Name())
		switch {
		case fd.IsList():
			l := v.List()
			items := make([]any, 0, l.Len())
			for i := 0; i < l.Len(); i++ {
				items = append(items, scalar(fd, l.Get(i)))
			}
			out[key] = items
		case fd.Kind() == protoreflect.MessageKind:
			flatten(key, v.Message(), out)
		default:
			out[key] = scalar(fd, v)
		}
		return true
	})
	if empty {
		out[prefix] = obj{}
	}
}

func scalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return int32(v.Enum())
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	case protoreflect.MessageKind:
		sub := obj{}
		flatten("", v.Message(), sub)
		return sub
	}
	return v.Interface()
}

func fieldOptions(fd protoreflect.FieldDescriptor) obj {
	o := obj{}
	opts := fd.Options()
	if opts != nil {
		if rules, ok := proto.GetExtension(opts, validate.E_Rules).(*validate.FieldRules); ok && rules != nil {
			flatten("(validate.rules)", rules.ProtoReflect(), o)
			if len(o) == 1 {
				if v, ok := o["(validate.rules)"].(obj); ok && len(v) == 0 {
					delete(o, "(validate.rules)")
				}
			}
		}
		if d, ok := proto.GetExtension(opts, annotations.E_DisallowedByDefault).(bool); ok && d {
			o["(envoy.annotations.disallowed_by_default)"] = true
		}
	}
	if fd.Options() != nil && fd.Options().ProtoReflect().Descriptor() != nil {
		if dep := fd.Options().ProtoReflect().Get(fd.Options().ProtoReflect().Descriptor().Fields().ByName("deprecated")); dep.Bool() {
			o["deprecated"] = true
		}
	}
	if fd.JSONName() != camel(string(fd.Name())) {
		o["json_name"] = fd.JSONName()
	}
	return o
}

func message(md protoreflect.MessageDescriptor) obj {
	t := obj{}
	fields := obj{}
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		f := obj{"id": int(fd.Number())}
		if fd.IsMap() {
			f["keyType"] = fd.MapKey().Kind().String()
			f["type"] = typeName(fd.MapValue())
		} else {
			f["type"] = typeName(fd)
			if fd.IsList() {
				f["rule"] = "repeated"
			}
		}
		if fd.HasOptionalKeyword() && fd.Syntax() == protoreflect.Proto3 {
			f["proto3_optional"] = true
		}
		if o := fieldOptions(fd); len(o) > 0 {
			f["options"] = o
		}
		fields[string(fd.Name())] = f
	}
	t["fields"] = fields
	if md.Oneofs().Len() > 0 {
		oneofs := obj{}
		for i := 0; i < md.Oneofs().Len(); i++ {
			od := md.Oneofs().Get(i)
			names := []string{}
			for j := 0; j < od.Fields().Len(); j++ {
				names = append(names, string(od.Fields().Get(j).Name()))
			}
			o := obj{"oneof": names}
			if od.Options() != nil {
				if req, ok := proto.GetExtension(od.Options(), validate.E_Required).(bool); ok && req {
					o["options"] = obj{"(validate.required)": true}
				}
			}
			oneofs[string(od.Name())] = o
		}
		t["oneofs"] = oneofs
	}
	for i := 0; i < md.Messages().Len(); i++ {
		nm := md.Messages().Get(i)
		if nm.IsMapEntry() {
			continue
		}
		add(t, string(nm.Name()), message(nm))
	}
	for i := 0; i < md.Enums().Len(); i++ {
		ed := md.Enums().Get(i)
		add(t, string(ed.Name()), enum(ed))
	}
	return t
}

func enum(ed protoreflect.EnumDescriptor) obj {
	values := obj{}
	for i := 0; i < ed.Values().Len(); i++ {
		v := ed.Values().Get(i)
		values[string(v.Name())] = int(v.Number())
	}
	e := obj{"values": values}
	alias := map[protoreflect.EnumNumber]bool{}
	for i := 0; i < ed.Values().Len(); i++ {
		n := ed.Values().Get(i).Number()
		if alias[n] {
			e["options"] = obj{"allow_alias": true}
		}
		alias[n] = true
	}
	return e
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run . <out.json>")
		os.Exit(2)
	}
	root := obj{}
	files := 0
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		ns := namespace(root, string(fd.Package()))
		for i := 0; i < fd.Messages().Len(); i++ {
			md := fd.Messages().Get(i)
			add(ns, string(md.Name()), message(md))
		}
		for i := 0; i < fd.Enums().Len(); i++ {
			ed := fd.Enums().Get(i)
			add(ns, string(ed.Name()), enum(ed))
		}
		files++
		return true
	})
	version := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/envoyproxy/go-control-plane/envoy" {
				version = d.Version
			}
		}
	}
	out := obj{
		"source": obj{"module": "github.com/envoyproxy/go-control-plane/envoy", "version": version, "files": files},
		"nested": root["nested"],
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(os.Args[1], append(b, '\n'), 0o644); err != nil {
		panic(err)
	}
	fmt.Fprintf(os.Stderr, "%d files from %s@%s → %s (%d bytes)\n", files, "github.com/envoyproxy/go-control-plane/envoy", version, os.Args[1], len(b))
}
