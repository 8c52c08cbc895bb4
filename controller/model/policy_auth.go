package model

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Auth is the basic authentication of a route: a request without valid
// credentials of Userlist gets 401 with the Realm challenge. An empty
// Userlist stands for a Secret that is missing or holds no valid user:
// every request is refused (403), the path never served unauthenticated.
type Auth struct {
	Userlist string `json:",omitempty"`
	Realm    string
}

// Userlist is the users of one auth-secret Secret, a haproxy userlist
// section named <namespace>_<name> (names hold no "_", so it is unique).
type Userlist struct {
	Name   string
	Source Ref
	Users  []User // in the Secret's order, user names distinct
}

// User is one userlist line. Password is a crypt(3) hash of a format that
// haproxy's libcrypt verifies (see checkHash), or with Insecure the plain
// password, compared as is.
type User struct {
	Name     string
	Password string
	Insecure bool
}

// AuthGlobal are the global ConfigMap values of the auth keys.
type AuthGlobal struct {
	Realm          string
	CrossNamespace bool // cross-namespace-secrets-passwd: allow
}

// authSettings are the auth keys as resolved for a path.
type authSettings struct {
	secret, realm string
}

// authSecretKey is the key of the Secret that holds the users, as upstream.
const authSecretKey = "auth"

// authPolicy is the Auth of route r (nil: no auth-secret), the userlist it
// needs built once per Secret; a problem with the Secret is reported on
// the Ingress of each route that uses it.
func (b *builder) authPolicy(r *Route, s authSettings) *Auth {
	if s.secret == "" {
		return nil
	}
	a := &Auth{Realm: s.realm}
	if !validSecretRef(s.secret) {
		b.report(Problem{r.Source, "auth-secret", "invalid value " + quoteValue(s.secret) + ", want " + authSecretAccepts + "; requests refused", Error})
		return a
	}
	ns, name, cross := strings.Cut(s.secret, "/")
	if !cross {
		ns, name = r.Source.Namespace, s.secret
	}
	if ns != r.Source.Namespace && !b.m.Global.Auth.CrossNamespace {
		b.report(Problem{r.Source, "auth-secret", "secret " + ns + "/" + name + " is in another namespace and cross-namespace-secrets-passwd is deny; requests refused", Error})
		return a
	}
	if b.userlists == nil {
		b.userlists = map[string]*userlistResult{}
	}
	key := ns + "/" + name
	res := b.userlists[key]
	if res == nil {
		res = b.readUserlist(ns, name)
		b.userlists[key] = res
	}
	for _, msg := range res.problems {
		sev := Warning
		if res.list == nil {
			sev = Error
		}
		b.report(Problem{r.Source, "auth-secret", "secret " + key + ": " + msg, sev})
	}
	if res.list != nil {
		a.Userlist = res.list.Name
	}
	return a
}

// userlistResult is a Secret read as a userlist: nil list when it gives no
// valid user.
type userlistResult struct {
	list     *Userlist
	problems []string
}

func (b *builder) readUserlist(ns, name string) *userlistResult {
	sec := b.secrets[ns+"/"+name]
	if sec == nil {
		return &userlistResult{problems: []string{"not found; requests refused"}}
	}
	data, ok := sec.Data[authSecretKey]
	if !ok {
		return &userlistResult{problems: []string{"no key " + authSecretKey + "; requests refused"}}
	}
	users, problems := parseUsers(string(data))
	if len(users) == 0 {
		return &userlistResult{problems: append(problems, "no valid user; requests refused")}
	}
	return &userlistResult{list: &Userlist{Name: ns + "_" + name, Source: Ref{Kind: "Secret", Namespace: ns, Name: name}, Users: users}, problems: problems}
}

// maxUsers bounds a userlist: haproxy scans it on every authenticated request.
const maxUsers = 1000

// parseUsers reads htpasswd-like lines "user:hash" and "user::password".
// A bad line is skipped with a problem naming its number, never its
// content: it may hold a password.
func parseUsers(data string) ([]User, []string) {
	var users []User
	var problems []string
	seen := map[string]bool{}
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		where := "line " + strconv.Itoa(i+1) + ": "
		u, msg := parseUser(line)
		switch {
		case msg != "":
			problems = append(problems, where+msg+"; skipped")
		case seen[u.Name]:
			problems = append(problems, where+"user "+strconv.Quote(u.Name)+" listed twice; skipped")
		case len(users) == maxUsers:
			problems = append(problems, where+"more than "+strconv.Itoa(maxUsers)+" users; skipped")
		default:
			seen[u.Name] = true
			users = append(users, u)
		}
	}
	return users, problems
}

func parseUser(line string) (User, string) {
	name, pass, ok := strings.Cut(line, ":")
	if !ok || pass == "" || pass == ":" {
		return User{}, "want user:hash or user::password"
	}
	if !validUserName(name) {
		return User{}, "invalid user name, want 1 to 64 printable ASCII characters but spaces and \":\""
	}
	if plain, insecure := strings.CutPrefix(pass, ":"); insecure {
		if !validPlainPassword(plain) {
			return User{}, "invalid plain password, want at most 256 characters of UTF-8 without control characters"
		}
		return User{Name: name, Password: plain, Insecure: true}, ""
	}
	if msg := checkHash(pass); msg != "" {
		return User{}, msg
	}
	return User{Name: name, Password: pass}, ""
}

func validUserName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c <= ' ' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

func validPlainPassword(p string) bool {
	if p == "" || len(p) > 256 || !utf8.ValidString(p) {
		return false
	}
	for _, r := range p {
		if r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return false
		}
	}
	return true
}

// The crypt(3) hashes of Debian's libxcrypt that haproxy's http_auth
// verifies, in their exact encodings. haproxy computes the hash on the
// thread that serves the request, blocking it meanwhile: costs are bounded
// so that one request cannot stall a thread for long (bcrypt cost 12 is
// about a quarter second) or allocate much (yescrypt's memory grows with N).
var (
	bcryptRe   = regexp.MustCompile(`^\$2[aby]\$(0[4-9]|1[0-2])\$[./A-Za-z0-9]{53}$`)
	shaCryptRe = regexp.MustCompile(`^\$([56])\$(rounds=([1-9][0-9]{3,5})\$)?[./A-Za-z0-9]{1,16}\$([./A-Za-z0-9]+)$`)
	md5CryptRe = regexp.MustCompile(`^\$1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}$`)
	// yescrypt with flags j and r 32 (mkpasswd's) and N at most 2^12
	// (mkpasswd's default cost): 16 MiB per verification.
	yescryptRe = regexp.MustCompile(`^\$y\$j[./0-9]T\$[./A-Za-z0-9]{1,86}\$[./A-Za-z0-9]{43}$`)
)

// maxShaRounds bounds the rounds of sha-crypt hashes (default 5000).
const maxShaRounds = 500000

// hashFormats is what checkHash accepts, for problems.
const hashFormats = "bcrypt ($2a$, $2b$, $2y$, cost 4 to 12), sha256-crypt ($5$) or sha512-crypt ($6$) with at most 500000 rounds, md5-crypt ($1$) or yescrypt ($y$j9T$ or cheaper)"

// checkHash tells what is wrong with a password hash; "" if haproxy can use it.
func checkHash(h string) string {
	switch {
	case bcryptRe.MatchString(h), md5CryptRe.MatchString(h), yescryptRe.MatchString(h):
		return ""
	case strings.HasPrefix(h, "$apr1$"):
		return "apr1 hashes (htpasswd's default) are not supported by crypt(3), use htpasswd -B or mkpasswd"
	}
	m := shaCryptRe.FindStringSubmatch(h)
	if m == nil {
		return "unsupported password hash, want " + hashFormats
	}
	if want := map[string]int{"5": 43, "6": 86}[m[1]]; len(m[4]) != want {
		return "unsupported password hash, want " + hashFormats
	}
	if m[3] != "" {
		if n, _ := strconv.Atoi(m[3]); n < 1000 || n > maxShaRounds {
			return "sha-crypt rounds out of 1000 to " + strconv.Itoa(maxShaRounds)
		}
	}
	return ""
}

// sortedUserlists are the userlists the routes use, by name.
func (b *builder) sortedUserlists() []Userlist {
	var out []Userlist
	for _, r := range b.userlists {
		if r.list != nil {
			out = append(out, *r.list)
		}
	}
	slices.SortFunc(out, func(a, b Userlist) int { return strings.Compare(a.Name, b.Name) })
	return out
}
