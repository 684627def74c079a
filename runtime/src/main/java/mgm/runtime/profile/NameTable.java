package mgm.runtime.profile;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/** Interned strings (slice names, shape labels, phase names) shared by a profiler's threads, by id. */
final class NameTable {
    private final ConcurrentHashMap<String, Integer> ids = new ConcurrentHashMap<>();
    private final List<String> names = new ArrayList<>();

    int id(String s) {
        Integer id = ids.get(s);
        return id != null ? id : ids.computeIfAbsent(s, this::append);
    }

    private synchronized int append(String s) {
        names.add(s);
        return names.size() - 1;
    }

    synchronized String name(int id) {
        return id < 0 ? null : names.get(id);
    }
}
