package render

import "github.com/external-haproxy/kit/controller/model"

// serverDefaults writes what every server of a backend shares as one
// default-server line, so that the many server lines stay short, and the
// HTTP health check request.
func serverDefaults(c *cfg, be *model.Backend) {
	o := &be.Policy.Server
	if o.Check.URI != "" {
		c.line("option httpchk GET", quoteWord(o.Check.URI))
	}
	words := upstream(be.Name, &be.Policy.Upstream)
	if o.MaxConn > 0 {
		words = append(words, "maxconn", itoa(o.MaxConn))
	}
	if o.MaxQueue > 0 {
		words = append(words, "maxqueue", itoa(o.MaxQueue))
	}
	if w := o.BaseWeight(); w != 1 {
		words = append(words, "weight", itoa(w))
	}
	if o.Check.On() {
		words = append(words, "check")
		if o.Check.Interval != 0 {
			words = append(words, "inter", o.Check.Interval.String())
		}
		if o.Check.Rise > 0 {
			words = append(words, "rise", itoa(o.Check.Rise))
		}
		if o.Check.Fall > 0 {
			words = append(words, "fall", itoa(o.Check.Fall))
		}
	}
	if o.ProxyProtocol != "" {
		words = append(words, proxyProtocol[o.ProxyProtocol])
	}
	if len(words) > 0 {
		c.line(append([]string{"default-server"}, words...)...)
	}
}

// proxyProtocol is haproxy's server option of each proxy-protocol value.
var proxyProtocol = map[string]string{"v1": "send-proxy", "v2": "send-proxy-v2", "v2-ssl": "send-proxy-v2-ssl", "v2-ssl-cn": "send-proxy-v2-ssl-cn"}
