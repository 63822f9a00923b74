package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/keyring"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/kv/kvtest"
	"github.com/twinvault/twinvault/objstore"
)

var (
	ctx    = context.Background()
	master = bytes.Repeat([]byte{3}, keyring.MasterKeySize)
)

// source builds a store with views, values and an object body, sealed by
// a real barrier.
func source(t *testing.T) (kv.Store, objstore.Store) {
	t.Helper()
	store := kvtest.NewMem()
	kr, err := keyring.Open(ctx, store, master)
	if err != nil {
		t.Fatal(err)
	}
	b, err := barrier.New(ctx, store, kr)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(ctx, func(tx *barrier.Tx) error {
		v, err := tx.CreateView([]byte("ws"))
		if err != nil {
			return err
		}
		for i := range 50 {
			if err := tx.Set(v, []byte(fmt.Sprint("k", i)), []byte(fmt.Sprint("QZXvalueMARK ", i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := objstore.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v, _ := b.View(ctx, []byte("ws"))
	var sealed bytes.Buffer
	w, _ := v.SealObject([]byte("body-1"), &sealed)
	w.Write([]byte(strings.Repeat("QZXbodyMARK", 20000)))
	w.Close()
	if _, err := objs.Put(ctx, "body-1", &sealed); err != nil {
		t.Fatal(err)
	}
	err = b.Update(ctx, func(tx *barrier.Tx) error { return tx.Set(v, []byte("body-1 key"), w.Key()) })
	if err != nil {
		t.Fatal(err)
	}
	return store, objs
}

func check(key []byte) func([]byte) error {
	return func(rec []byte) error { return keyring.CheckRecord(key, rec) }
}

func TestRoundTrip(t *testing.T) {
	store, objs := source(t)
	var buf bytes.Buffer
	st, err := Write(ctx, &buf, store, objs)
	if err != nil || st.Objects != 1 || st.Pairs < 53 {
		t.Fatalf("write: %+v %v", st, err)
	}
	// The markers whole: three random bytes of ciphertext match "QZX" in
	// about one backup in eighty.
	for _, m := range []string{"QZXvalueMARK", "QZXbodyMARK"} {
		if bytes.Contains(buf.Bytes(), []byte(m)) {
			t.Fatalf("the backup holds plaintext (%s)", m)
		}
	}
	into, objsInto := kvtest.NewMem(), mustDir(t)
	got, err := Restore(ctx, bytes.NewReader(buf.Bytes()), into, objsInto, []byte(keyring.RecordKey), check(master))
	if err != nil || got != st {
		t.Fatalf("restore: %+v %v", got, err)
	}
	kr, err := keyring.Open(ctx, into, master)
	if err != nil {
		t.Fatal(err)
	}
	b, err := barrier.New(ctx, into, kr)
	if err != nil {
		t.Fatal(err)
	}
	v, err := b.View(ctx, []byte("ws"))
	if err != nil {
		t.Fatal(err)
	}
	if val, err := v.Get(ctx, []byte("k7")); err != nil || string(val) != "QZXvalueMARK 7" {
		t.Fatalf("a restored value: %q %v", val, err)
	}
	f, err := objsInto.Open(ctx, "body-1")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	okey, err := v.Get(ctx, []byte("body-1 key"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := v.OpenObject([]byte("body-1"), f, f.Size(), okey)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.NewSectionReader(o, 0, o.Size()))
	if string(body) != strings.Repeat("QZXbodyMARK", 20000) {
		t.Fatal("the restored object differs")
	}
	// Not into a store that holds data.
	if _, err := Restore(ctx, bytes.NewReader(buf.Bytes()), into, objsInto, []byte(keyring.RecordKey), check(master)); err == nil {
		t.Fatal("restored over data")
	}
}

func TestRestoreRefuses(t *testing.T) {
	store, objs := source(t)
	var buf bytes.Buffer
	if _, err := Write(ctx, &buf, store, objs); err != nil {
		t.Fatal(err)
	}
	full := buf.Bytes()
	if st, err := Verify(bytes.NewReader(full)); err != nil || st.Objects != 1 {
		t.Fatalf("verify: %+v %v", st, err)
	}
	if _, err := Verify(bytes.NewReader(append(bytes.Clone(full), 0))); !errors.Is(err, ErrFormat) {
		t.Fatalf("verify with a byte after the trailer: %v", err)
	}
	// Another master key: refused before anything is written.
	into := kvtest.NewMem()
	_, err := Restore(ctx, bytes.NewReader(full), into, mustDir(t), []byte(keyring.RecordKey), check(bytes.Repeat([]byte{4}, 32)))
	if err == nil {
		t.Fatal("restored with another master key")
	}
	if n := len(into.Raw()); n != 0 {
		t.Fatalf("%d pairs written before the key was refused", n)
	}
	// Cut anywhere, or a byte changed: refused.
	for _, cut := range []int{len(magic) - 1, len(magic) + 10, len(full) / 2, len(full) - 33, len(full) - 1} {
		if _, err := Restore(ctx, bytes.NewReader(full[:cut]), kvtest.NewMem(), mustDir(t), []byte(keyring.RecordKey), check(master)); !errors.Is(err, ErrFormat) {
			t.Errorf("cut at %d of %d: %v", cut, len(full), err)
		}
	}
	for _, at := range []int{len(magic) + 3, len(full) / 3, len(full) - 40} {
		bad := bytes.Clone(full)
		bad[at] ^= 1
		if _, err := Restore(ctx, bytes.NewReader(bad), kvtest.NewMem(), mustDir(t), []byte(keyring.RecordKey), check(master)); err == nil {
			t.Errorf("a byte changed at %d was taken", at)
		}
	}
}

// FuzzRestore: any stream is restored whole or refused, never a panic.
func FuzzRestore(f *testing.F) {
	f.Add([]byte(magic))
	f.Add([]byte(magic + "\x01\x03abc\x01x\x00\x01"))
	f.Add([]byte("TVBACKUP1\n\x02\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		Restore(ctx, bytes.NewReader(data), kvtest.NewMem(), mustDir(t), []byte("abc"), func([]byte) error { return nil })
	})
}

func mustDir(t testing.TB) objstore.Store {
	t.Helper()
	d, err := objstore.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}
