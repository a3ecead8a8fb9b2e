package indexer

import (
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/glimpse-search/glimpse/library"

	"github.com/glimpse-search/glimpse/store"
)

// Stats describes a library for `indexer status`.
type Stats struct {
	Dir              string   `json:"data_dir"`
	Store            string   `json:"store"`  // where the image vectors live: "embedded" or the backend URL
	Images           int      `json:"images"` // indexed paths (duplicates count)
	Texts            int      `json:"texts"`  // stored texts
	Model            string   `json:"model"`  // the model asked about
	Dim              int      `json:"dim"`    // its embedding dimension
	Namespace        string   `json:"namespace"`
	Embeddings       int      `json:"embeddings"`      // distinct image contents embedded by the model
	TextEmbeddings   int      `json:"text_embeddings"` // texts embedded by the model
	NamespaceError   string   `json:"namespace_error,omitempty"`
	DBBytes          int64    `json:"db_bytes"`           // database file
	VectorGraphBytes int64    `json:"vector_graph_bytes"` // its vectors and HNSW graphs, log included (store.Space)
	RecordBytes      int64    `json:"record_bytes"`       // its image and text records
	DBRatio          float64  `json:"db_ratio,omitempty"` // DBBytes / VectorGraphBytes (absent without vectors)
	Thumbs           int      `json:"thumbs"`
	ThumbBytes       int64    `json:"thumb_bytes"`
	TokenFiles       int      `json:"token_files"` // images whose ITM tokens the model's token cache holds
	TokenBytes       int64    `json:"token_bytes"`
	CopyFiles        int      `json:"copy_files"` // contents with a model-resolution copy for the model (TokensCopies)
	CopyBytes        int64    `json:"copy_bytes"`
	LastRun          *LastRun `json:"last_run,omitempty"`
}

// LibraryStats counts the library's records, the model's embeddings (its namespace is not created
// when missing) and the files' sizes, and reads the last run's summary. It reads the whole
// database file (store.Space).
func LibraryStats(l *library.Library, model store.ModelInfo) (Stats, error) {
	db := l.DB()
	s := Stats{Dir: l.Dir(), Store: db.Backend(), Images: db.ImageCount(), Texts: db.TextCount(),
		Model: model.Name, Dim: model.Dim, Namespace: model.Name}
	ns, err := db.Namespace(model, store.NamespaceOptions{NoCreate: true})
	switch {
	case err == nil:
		s.Embeddings, s.TextEmbeddings = ns.Len(), ns.TextLen()
	case errors.Is(err, store.ErrNoNamespace) || errors.Is(err, store.ErrModelMismatch) ||
		errors.Is(err, store.ErrBackendMismatch):
		s.NamespaceError = err.Error()
	default:
		return s, err
	}
	sp, err := db.Space()
	if err != nil {
		return s, err
	}
	s.DBBytes, s.VectorGraphBytes, s.RecordBytes = sp.File, sp.Vectors+sp.Graph+sp.Log, sp.Records
	if s.VectorGraphBytes > 0 {
		s.DBRatio = float64(s.DBBytes) / float64(s.VectorGraphBytes)
	}
	if s.Thumbs, s.ThumbBytes, err = countFiles(filepath.Join(l.Dir(), library.ThumbsDir), ".jpg"); err != nil {
		return s, err
	}
	if s.TokenFiles, s.TokenBytes, err = countFiles(library.TokenDir(l.Dir(), s.Namespace, model), ".f16"); err != nil {
		return s, err
	}
	if s.CopyFiles, s.CopyBytes, err = countFiles(library.CopyDir(l.Dir(), s.Namespace, model), library.CopyExt); err != nil {
		return s, err
	}
	if r, ok, err := ReadLastRun(l); err != nil {
		return s, err
	} else if ok {
		s.LastRun = &r
	}
	return s, nil
}

// countFiles counts the regular files with extension ext under dir (none when it is missing)
// and their bytes.
func countFiles(dir, ext string) (n int, bytes int64, err error) {
	err = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() && filepath.Ext(d.Name()) == ext {
			if info, err := d.Info(); err == nil {
				n++
				bytes += info.Size()
			}
		}
		return nil
	})
	return n, bytes, err
}
