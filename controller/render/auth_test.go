package render

import (
	"testing"

	"github.com/external-haproxy/kit/controller/model"
)

func TestUserlistSnippets(t *testing.T) {
	got := userlists([]model.Userlist{{Name: "ns_users", Users: []model.User{
		{Name: "alice", Password: "$2y$05$abc"}, {Name: "o'neil", Password: "it's plain", Insecure: true}}}})
	checkLines(t, got, []string{
		"userlist ns_users",
		"user 'alice' password '$2y$05$abc'",
		`user 'o'\''neil' insecure-password 'it'\''s plain'`,
	}, nil)
	if len(userlists(nil)) != 0 {
		t.Error("a section without userlists")
	}
}

func TestAuthSnippets(t *testing.T) {
	ok := model.PathPolicy{Auth: &model.Auth{Userlist: "ns_users", Realm: "Kit's realm"}}
	refused := model.PathPolicy{Auth: &model.Auth{Realm: "localhost"}}
	got := policyFrontends(ok, refused)
	checkLines(t, got, []string{
		"acl pol_auth_" + authGroup(ok, refused, ok) + " var(txn.policy) -m str " + ok.ID(),
		`http-request auth realm 'Kit'\''s realm' if pol_auth_` + authGroup(ok, refused, ok) + " !{ http_auth(ns_users) }",
		"http-request deny deny_status 403 if pol_auth_" + authGroup(ok, refused, refused),
	}, nil)
}

// authGroup is the index of p's auth group among the two policies: groups
// come in the order of their IDs.
func authGroup(a, b, p model.PathPolicy) string {
	if (a.ID() < b.ID()) == (p.ID() == a.ID()) {
		return "0"
	}
	return "1"
}
