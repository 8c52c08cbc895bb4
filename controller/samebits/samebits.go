// Package samebits compares values by their memory: two values that hold
// the same bytes (the same pointers, lengths and scalars) are deeply equal,
// as long as what they point to is never changed, which holds for the
// model once built. A model patched from the one before (model.Cache)
// carries its unchanged parts over as such copies, so that comparing them,
// or finding what was rendered of them, costs a memcmp instead of a walk.
// A false says nothing: equal values may differ in memory.
package samebits

import (
	"bytes"
	"unsafe"
)

// Same tells whether *a and *b hold the same bytes.
func Same[T any](a, b *T) bool {
	return a == b || bytes.Equal(Of(a), Of(b))
}

// Of is the memory of *p, to read only; string(Of(p)) as a map key finds a
// value by its bytes. Whoever keeps such a key keeps *p too, so that the
// memory its pointers name is never reused for other values meanwhile.
func Of[T any](p *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
}

// At is the memory of size bytes at p, for values reached through
// reflection.
func At(p unsafe.Pointer, size uintptr) []byte {
	return unsafe.Slice((*byte)(p), size)
}
