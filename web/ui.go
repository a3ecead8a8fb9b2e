package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// mountUI serves Options.UI at "/" (index.html for "/"). http.FileServerFS cleans the path and
// refuses ".." itself, and an fs.FS cannot reach outside its root.
func (s *Server) mountUI() error {
	if s.o.UI == nil {
		s.e.GET("/", func(c echo.Context) error {
			return c.String(http.StatusOK, "Glimpse: the API is at "+APIPrefix+"/openapi.json\n")
		})
		return nil
	}
	fsrv := http.FileServerFS(s.o.UI)
	h := echo.WrapHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		fsrv.ServeHTTP(w, r)
	}))
	s.e.GET("/", h)
	s.e.HEAD("/", h)
	s.e.GET("/*", h)
	s.e.HEAD("/*", h)
	return nil
}
