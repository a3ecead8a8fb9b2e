package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// backup is GET /backup (API key): the library as a tar archive (library.Library.Backup), taken
// while the server goes on searching and indexing. `indexer backup` calls it when a server owns
// the data dir.
func (s *Server) backup(c echo.Context) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/x-tar")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="glimpse-backup-%s.tar"`, s.o.Now().UTC().Format("20060102-150405")))
	h.Set("Cache-Control", "no-store")
	// a large library takes longer than WriteTimeout to send
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Time{})
	c.Response().WriteHeader(http.StatusOK)
	t0 := time.Now()
	sum, err := s.lib.Backup(c.Response())
	if err != nil {
		// the status line is sent: a broken archive is all the client can be told (its tar
		// reader fails on the truncated stream)
		s.o.Logger.Error("backup failed", "err", err)
		return nil
	}
	s.o.Logger.Info("backup sent", "db_bytes", sum.DBBytes, "thumbnails", sum.Thumbnails, "seconds", time.Since(t0).Seconds())
	return nil
}
