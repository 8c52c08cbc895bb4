package model

// RedirectTo answers the requests of a route with a redirect to URL.
type RedirectTo struct {
	URL  string
	Code int
}

// BodyLimit refuses (413) request bodies longer than Max bytes. A body
// without Content-Length (chunked, or HTTP/2 without it) is first awaited
// for up to Wait, as much of it as haproxy's buffer holds.
type BodyLimit struct {
	Max  int64
	Wait Duration
}

// redirectPolicy adds the effect of the redirect keys to p.
func (s *pathSettings) redirectPolicy(p *PathPolicy) {
	if s.redirectTo != "" {
		p.RedirectTo = &RedirectTo{URL: s.redirectTo, Code: s.global.RedirectToCode}
	}
	if s.maxBody > 0 {
		// The time a client has to send a whole request.
		p.BodyLimit = &BodyLimit{Max: s.maxBody, Wait: s.global.TimeoutHTTPRequest}
	}
}
