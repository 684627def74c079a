package mgm.kernels;

/**
 * A loaded kernel: its module ({@code .cu} file name without extension), its name and the
 * driver's handle (a {@code CUfunction}, or the emulator's entry point). {@code dynamicSharedLimit}
 * remembers how much dynamic shared memory the function has been allowed to use.
 */
public final class Kernel {
    private final String module;
    private final String name;
    private final long handle;
    int dynamicSharedLimit = 48 * 1024;

    Kernel(String module, String name, long handle) {
        this.module = module;
        this.name = name;
        this.handle = handle;
    }

    public String module() {
        return module;
    }

    public String name() {
        return name;
    }

    public long handle() {
        return handle;
    }

    @Override
    public String toString() {
        return module + "/" + name;
    }
}
