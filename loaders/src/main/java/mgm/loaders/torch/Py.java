package mgm.loaders.torch;

import java.math.BigInteger;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The Python values a restricted unpickle can produce. Containers are plain Java collections
 * (dict: {@code LinkedHashMap}, list: {@code ArrayList}); ints are {@code Long} or
 * {@code BigInteger}, floats {@code Double}, str {@code String}, bytes {@code byte[]}, None
 * {@code null}. Nothing here runs code: a {@link Global} is only a name that a policy accepted.
 */
final class Py {
    private Py() {}

    /** A module attribute the policy allowed (e.g. {@code torch._utils._rebuild_tensor_v2}). */
    record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** An immutable tuple. */
    record Tuple(List<Object> items) {
        Tuple {
            items = Collections.unmodifiableList(items);
        }

        int size() {
            return items.size();
        }

        Object get(int i) {
            return items.get(i);
        }
    }

    /** A set or frozenset, kept as its items (never hashed, so never compared deeply). */
    record Set(List<Object> items) {}

    /** A short, non-recursive description of a value for error messages. */
    static String typeName(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof String) {
            return "str";
        }
        if (o instanceof Long || o instanceof BigInteger) {
            return "int";
        }
        if (o instanceof Double) {
            return "float";
        }
        if (o instanceof Boolean) {
            return "bool";
        }
        if (o instanceof byte[]) {
            return "bytes";
        }
        if (o instanceof Map) {
            return "dict";
        }
        if (o instanceof List) {
            return "list";
        }
        if (o instanceof Tuple t) {
            return "tuple of " + t.size();
        }
        if (o instanceof Set) {
            return "set";
        }
        if (o instanceof Global g) {
            return g.toString();
        }
        return o.getClass().getSimpleName();
    }

    /** Whether {@code o} may be a dict key: scalars, and tuples of scalars (hashing them cannot recurse). */
    static boolean isHashable(Object o) {
        if (o == null || o instanceof String || o instanceof Long || o instanceof BigInteger || o instanceof Double
                || o instanceof Boolean || o instanceof Global) {
            return true;
        }
        if (o instanceof Tuple t) {
            for (Object i : t.items()) {
                if (i instanceof Tuple || !isHashable(i)) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }
}
