# Overlay of the Go standard library's internal/syscall/windows/at_windows.go
# for Wine 8.0 (applied by .ci/windows-wine through `go test -overlay`).
#
# Go >= 1.23 deletes a file with NtSetInformationFile(FileDispositionInformationEx)
# and falls back to the older FileDispositionInformation only when Windows answers
# STATUS_INVALID_INFO_CLASS, STATUS_INVALID_PARAMETER or STATUS_NOT_SUPPORTED.
# Wine 8.0 answers STATUS_NOT_IMPLEMENTED (0xC0000002), so without this every
# os.RemoveAll of a non-empty folder (each t.TempDir cleanup) fails under Wine.
# The edit adds that status to the fallback list; real Windows never returns it.
s|^\t\tSTATUS_NOT_SUPPORTED:     //|\t\tSTATUS_NOT_SUPPORTED, NTStatus(0xC0000002): //|
