// Command minimal is the floor for the load tool's figures: a Gin server whose
// webhook route only reads the body and answers 200, with no verification,
// no database and no middleware.
//
//	go run ./bench/load/minimal --addr 127.0.0.1:8081 &
//	go run ./bench/load --url http://127.0.0.1:8081 --mix standard --duration 20s
package main

import (
	"flag"
	"io"
	"log"
	"net/http"

	"github.com/gin-gonic/gin"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	flag.Parse()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/webhooks/standard/:shop", func(c *gin.Context) {
		if _, err := io.Copy(io.Discard, c.Request.Body); err != nil {
			c.Status(http.StatusBadRequest)
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "stored", "delivery_id": c.GetHeader("webhook-id")})
	})
	log.Fatal(http.ListenAndServe(*addr, r))
}
