package genmap

import "testing"

func TestMap(t *testing.T) {
	c := Map[string, int]{Max: 2}
	c.Put(2, "a", 1)
	if v, ok := c.Get(2, "a"); !ok || v != 1 {
		t.Fatalf("get at the generation put: %d, %v", v, ok)
	}
	if _, ok := c.Get(1, "a"); ok {
		t.Fatal("an older generation's reader was served")
	}
	if _, ok := c.Get(3, "a"); ok {
		t.Fatal("a newer generation's reader was served")
	}
	c.Put(1, "b", 2) // older: dropped
	if _, ok := c.Get(1, "b"); ok {
		t.Fatal("an older generation's put was kept")
	}
	c.Put(2, "b", 2)
	c.Put(2, "c", 3) // past Max: dropped
	if c.Len() != 2 {
		t.Fatalf("%d entries, want 2 (the bound)", c.Len())
	}
	c.Put(3, "c", 3) // newer: starts afresh
	if _, ok := c.Get(3, "a"); ok || c.Len() != 1 {
		t.Fatalf("a newer generation kept %d entries", c.Len())
	}
}
