// Command echoserver is the backend of the end-to-end tests and the demo: it
// answers every request with its own name, the Host and the path it saw, so a
// test can tell which endpoint served a request.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	name := flag.String("name", "echo", "name reported in every answer")
	flag.Parse()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "server=%s host=%s path=%s\n", *name, r.Host, r.URL.Path)
	})
	srv := &http.Server{Addr: *listen, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
