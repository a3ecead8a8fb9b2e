package web

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/glimpse-search/glimpse/photo"
	"github.com/glimpse-search/glimpse/store"
)

// ImageMeta answers GET /images/{id}/meta.
type ImageMeta struct {
	ID       uint64     `json:"id"`
	Name     string     `json:"name"`
	Folder   string     `json:"folder"` // relative, as GET /folders lists it, for the folder filter
	Format   string     `json:"format,omitempty"`
	Width    int        `json:"width,omitempty"`
	Height   int        `json:"height,omitempty"`
	Size     int64      `json:"size"`
	Captured *time.Time `json:"captured,omitempty"`
	Modified *time.Time `json:"modified,omitempty"`
	Added    *time.Time `json:"added,omitempty"`
	SHA256   string     `json:"sha256"`
	// Available is false when the file is gone or changed since it was indexed (the thumbnail
	// may still be there).
	Available bool   `json:"available"`
	ThumbURL  string `json:"thumb_url"`
	ImageURL  string `json:"image_url"`
}

// Deleted answers DELETE /images/{id}.
type Deleted struct {
	ID      uint64 `json:"id"`
	Deleted bool   `json:"deleted"`
}

// record reads the image of the request's id parameter (400 for a malformed id, 404 unknown).
func (s *Server) record(c echo.Context) (store.ImageRecord, error) {
	id, err := parseID(c.Param("id"))
	if err != nil {
		return store.ImageRecord{}, err
	}
	r, err := s.lib.DB().Image(id)
	if errors.Is(err, store.ErrNotFound) {
		return r, errorf(http.StatusNotFound, CodeNotFound, "no image with id %d", id)
	}
	return r, err
}

// errChanged: the file at an indexed path is not the file that was indexed.
var errChanged = errors.New("changed since indexing")

// openIndexed opens an image's file only if it is still the regular file that was indexed
// (same size and modification time) and still an image. The path comes from the database.
func openIndexed(r store.ImageRecord) (*os.File, string, error) {
	f, err := os.Open(r.Path)
	if err != nil {
		return nil, "", err
	}
	info, err := f.Stat()
	if err == nil && (!info.Mode().IsRegular() || info.Size() != r.Size || !info.ModTime().Equal(r.ModTime)) {
		err = errChanged
	}
	var format string
	if err == nil {
		head := make([]byte, 32)
		n, _ := io.ReadFull(f, head)
		if format = photo.Sniff(head[:n]); format == "" {
			err = errChanged
		}
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, "", err
	}
	return f, format, nil
}

func contentType(format string) string {
	if format == "heif" {
		return "image/heif"
	}
	return "image/" + format
}

// image is GET /images/{id}: the indexed original, with range and conditional requests.
func (s *Server) image(c echo.Context) error {
	r, err := s.record(c)
	if err != nil {
		return err
	}
	f, format, err := openIndexed(r)
	if err != nil {
		s.o.Logger.Warn("original unavailable", "photo_id", r.ID, "path", r.Path, "error", err.Error())
		return errorf(http.StatusNotFound, CodeNotFound,
			"the file of image %d is gone, moved or changed since it was indexed; re-index its folder", r.ID)
	}
	defer f.Close()
	name := filepath.Base(r.Path)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, contentType(format))
	h.Set("Content-Disposition", "inline; filename*=UTF-8''"+url.PathEscape(name))
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("ETag", `"`+hex.EncodeToString(r.SHA256[:])+`"`)
	http.ServeContent(c.Response(), c.Request(), name, r.ModTime, f)
	return nil
}

// thumb is GET /thumbs/{id}: the stored thumbnail (JPEG), or the original when there is none.
func (s *Server) thumb(c echo.Context) error {
	r, err := s.record(c)
	if err != nil {
		return err
	}
	f, err := os.Open(s.lib.ThumbPath(r.SHA256))
	if errors.Is(err, fs.ErrNotExist) {
		return s.image(c)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "image/jpeg")
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("ETag", `"t`+hex.EncodeToString(r.SHA256[:])+`"`)
	http.ServeContent(c.Response(), c.Request(), "", info.ModTime(), f)
	return nil
}

// imageMeta is GET /images/{id}/meta.
func (s *Server) imageMeta(c echo.Context) error {
	r, err := s.record(c)
	if err != nil {
		return err
	}
	folder, err := s.relFolder(folderOf(r.Path))
	if err != nil {
		return err
	}
	id := strconv.FormatUint(r.ID, 10)
	m := ImageMeta{ID: r.ID, Name: filepath.Base(r.Path), Folder: folder, Width: r.Width, Height: r.Height,
		Size: r.Size, Captured: timePtr(r.Captured), Modified: timePtr(r.ModTime), Added: timePtr(r.Added),
		SHA256: hex.EncodeToString(r.SHA256[:]), ThumbURL: APIPrefix + "/thumbs/" + id, ImageURL: APIPrefix + "/images/" + id}
	if f, format, err := openIndexed(r); err == nil {
		f.Close()
		m.Format, m.Available = format, true
	}
	return c.JSON(http.StatusOK, m)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// deleteImage is DELETE /images/{id}: the record, and its embedding and thumbnail when no
// other image shares the content. The file itself is never touched.
func (s *Server) deleteImage(c echo.Context) error {
	r, err := s.record(c)
	if err != nil {
		return err
	}
	if _, err := s.lib.RemoveImage(r.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errorf(http.StatusNotFound, CodeNotFound, "no image with id %d", r.ID)
		}
		return fmt.Errorf("delete image %d: %w", r.ID, err)
	}
	s.o.Logger.Info("image deleted", "photo_id", r.ID, "path", r.Path, "request_id", requestID(c))
	return c.JSON(http.StatusOK, Deleted{ID: r.ID, Deleted: true})
}
