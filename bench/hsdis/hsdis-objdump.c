/*
 * A minimal hsdis plugin for HotSpot's -XX:+PrintAssembly, backed by GNU objdump: the JVM hands
 * us a code buffer, we write it to a temporary file, disassemble it with objdump (Intel syntax)
 * and print one instruction per line, reporting instruction boundaries so that the JVM
 * interleaves its own comments (bytecode positions, calls, oops). objdump knows every AVX-512
 * encoding C2 emits, which the capstone 4 that Debian ships does not.
 *
 * Development aid only (see bench/hsdis/build.sh and the README's "Reading C2's machine code");
 * nothing in the project links it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void* (*event_callback_t)(void*, const char*, void*);
typedef int (*printf_callback_t)(void*, const char*, ...);

void* decode_instructions_virtual(uintptr_t start_va, uintptr_t end_va, unsigned char* buffer, uintptr_t length,
                                  event_callback_t event, void* event_stream, printf_callback_t print, void* print_stream,
                                  const char* options, int newline) {
    (void) end_va;
    (void) options;
    char path[] = "/tmp/hsdis-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    FILE* f = fdopen(fd, "wb");
    if (f == NULL || fwrite(buffer, 1, length, f) != length) {
        if (f != NULL) fclose(f);
        unlink(path);
        return NULL;
    }
    fclose(f);
    char command[256];
    snprintf(command, sizeof command,
             "objdump -D -b binary -m i386:x86-64 -M intel --no-show-raw-insn --adjust-vma=0x%lx %s 2>/dev/null",
             (unsigned long) start_va, path);
    FILE* p = popen(command, "r");
    if (p == NULL) {
        unlink(path);
        return NULL;
    }
    size_t cap = 1024, n = 0;
    uintptr_t* addresses = malloc(cap * sizeof *addresses);
    char** texts = malloc(cap * sizeof *texts);
    char line[512];
    while (addresses != NULL && texts != NULL && fgets(line, sizeof line, p) != NULL) {
        line[strcspn(line, "\n")] = 0;
        char* colon = strchr(line, ':');
        char* end;
        uintptr_t address = strtoull(line, &end, 16);
        if (colon == NULL || end != colon || end == line) continue;  /* headers, labels, blank lines */
        char* text = colon + 1;
        while (*text == ' ' || *text == '\t') text++;
        if (n == cap) {
            cap *= 2;
            uintptr_t* a = realloc(addresses, cap * sizeof *addresses);
            char** t = realloc(texts, cap * sizeof *texts);
            if (a == NULL || t == NULL) break;
            addresses = a;
            texts = t;
        }
        addresses[n] = address;
        texts[n] = strdup(text);
        n++;
    }
    pclose(p);
    unlink(path);
    for (size_t i = 0; i < n; i++) {
        event(event_stream, "insn", (void*) addresses[i]);
        print(print_stream, "%s", texts[i] != NULL ? texts[i] : "?");
        event(event_stream, "/insn", (void*) (i + 1 < n ? addresses[i + 1] : start_va + length));
        if (newline) print(print_stream, "\n");
        free(texts[i]);
    }
    free(addresses);
    free(texts);
    return (void*) (start_va + length);
}
