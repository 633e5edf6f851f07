package source

import (
	"context"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/reconciler/reconciler/internal/testfixture"
)

func TestGitSourceVerifiesSignatures(t *testing.T) {
	t.Parallel()
	trusted, stranger := testfixture.NewSigner(t, "trusted"), testfixture.NewSigner(t, "stranger")
	keyring := writeFile(t, "keys.asc", testfixture.ArmoredPublicKeys(t, trusted))
	tests := []struct {
		name      string
		key       *openpgp.Entity
		wantApply bool
	}{
		{name: "signed by a trusted key", key: trusted, wantApply: true},
		{name: "unsigned", key: nil},
		{name: "signed by an unknown key", key: stranger},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := testfixture.NewRemote(t)
			good := r.Publish(map[string]string{"web.yaml": manifest("web", "process")}, trusted)
			logger, logs := testLogs(t)
			g := newTestSource(t, GitOptions{URL: r.Bare, VerifySignaturesKeyring: keyring, Logger: logger})
			pollOK(t, g)
			head := r.Publish(map[string]string{"web.yaml": manifest("web", "hyperv")}, tt.key)
			pollOK(t, g)
			snap, _ := g.Snapshot(context.Background())
			want, wantIso := head, "web=hyperv"
			if !tt.wantApply {
				want, wantIso = good, "web=process"
			}
			if snap.Revision != want {
				t.Errorf("revision = %s, want %s", snap.Revision, want)
			}
			if got := desired(t, g); len(got) != 1 || got[0] != wantIso {
				t.Errorf("containers = %v, want [%s]", got, wantIso)
			}
			if tt.wantApply {
				if len(snap.Errors) > 0 || g.Status().LastError != "" {
					t.Errorf("trusted commit reported: %v / %s", snap.Errors, g.Status().LastError)
				}
				return
			}
			if errs := problemText(snap.Errors); !strings.Contains(errs, "commit "+head[:7]+": not applied") {
				t.Errorf("errors = %q, want the rejected commit named", errs)
			}
			if st := g.Status(); st.Newest != head || st.Commit != good || !strings.Contains(st.LastError, "sign") {
				t.Errorf("status = %+v, want newest %s, in force %s, a signature error", st, head, good)
			}
			if logs.FilterMessage("head commit not applied").Len() != 1 {
				t.Error("rejection not logged once")
			}
			// Polling the same rejected head again verifies nothing new
			// and keeps reporting it.
			if pollOK(t, g) {
				t.Error("rejected head handled again")
			}
			if st := g.Status(); !strings.Contains(st.LastError, "sign") {
				t.Errorf("after another poll, status error = %q, want the rejection", st.LastError)
			}
		})
	}
}
