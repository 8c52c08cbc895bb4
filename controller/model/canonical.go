package model

import (
	"encoding/binary"
	"net/netip"
	"reflect"
)

// appendCanonical appends an encoding of v to buf that is equal for two
// values exactly when equal says they are: every field in order, its
// length before each string and slice (a nil slice encodes as an empty
// one), a presence byte before each pointer, and netip values in their
// binary form. It is what policy IDs hash and what distinctRests keys on,
// instead of encoding/json, which escapes, allocates and formats numbers
// and prefixes as text: the IDs of 20k routes were half of a render.
func appendCanonical(buf []byte, v reflect.Value) []byte {
	if ipTypes[v.Type()] {
		// netip.Addr, Prefix and AddrPort: unexported fields, and a length
		// that depends on the family. Appended in place after their
		// length, without boxing the value.
		at := len(buf)
		buf = append(buf, 0)
		var err error
		if a, ok := reflect.TypeAssert[netip.Addr](v); ok {
			buf, err = a.AppendBinary(buf)
		} else if p, ok := reflect.TypeAssert[netip.Prefix](v); ok {
			buf, err = p.AppendBinary(buf)
		} else {
			ap, _ := reflect.TypeAssert[netip.AddrPort](v)
			buf, err = ap.AppendBinary(buf)
		}
		if err != nil {
			panic("model value does not encode: " + err.Error())
		}
		if n := len(buf) - at - 1; n > 127 {
			// A long zone: the length takes more than one byte.
			b := append([]byte(nil), buf[at+1:]...)
			return append(binary.AppendUvarint(buf[:at], uint64(n)), b...)
		}
		buf[at] = byte(len(buf) - at - 1)
		return buf
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			buf = appendCanonical(buf, v.Field(i))
		}
		return buf
	case reflect.Pointer:
		if v.IsNil() {
			return append(buf, 0)
		}
		return appendCanonical(append(buf, 1), v.Elem())
	case reflect.Slice, reflect.Array:
		buf = binary.AppendUvarint(buf, uint64(v.Len()))
		for i := range v.Len() {
			buf = appendCanonical(buf, v.Index(i))
		}
		return buf
	case reflect.String:
		return append(binary.AppendUvarint(buf, uint64(v.Len())), v.String()...)
	case reflect.Bool:
		if v.Bool() {
			return append(buf, 1)
		}
		return append(buf, 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(buf, v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return binary.AppendUvarint(buf, v.Uint())
	default:
		panic("model value of kind " + v.Kind().String() + " has no canonical encoding")
	}
}
