package defaultcert

import (
	"bytes"
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestReusedUntilNearExpiry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "default.pem")
	now := time.Now()
	first, err := LoadOrCreate(path, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(first, first); err != nil {
		t.Fatalf("generated bundle is not a usable key pair: %v", err)
	}
	if err := os.WriteFile(path, first, 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreate(path, now.Add(24*time.Hour))
	if err != nil || !bytes.Equal(first, again) {
		t.Fatal("a valid certificate on disk was not reused")
	}
	renewed, err := LoadOrCreate(path, now.Add(validity-time.Hour))
	if err != nil || bytes.Equal(first, renewed) {
		t.Fatal("a certificate about to expire was reused")
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := LoadOrCreate(path, now); err != nil || bytes.Equal(b, []byte("garbage")) {
		t.Fatal("garbage on disk was reused")
	}
}

func TestKeeperParsesOnceUntilRenewal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "default.pem")
	now := time.Now()
	k := &Keeper{Path: path}
	first, err := k.Get(now)
	if err != nil {
		t.Fatal(err)
	}
	// Garbage on disk is not even read while the kept certificate is valid.
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if again, err := k.Get(now.Add(24 * time.Hour)); err != nil || !bytes.Equal(first, again) {
		t.Fatal("the kept certificate was not returned")
	}
	if renewed, err := k.Get(now.Add(validity - time.Hour)); err != nil || bytes.Equal(first, renewed) {
		t.Fatal("a certificate due for renewal was kept")
	}
}
