"""Technical pages of the sample, written for this project: tutorials with ``<pre><code>``
blocks and maths/science explainers with formulas (LaTeX in text, some MathML)."""

from __future__ import annotations

CODE_PAGES: list[dict] = [
    {
        "title": "Reading a CSV file line by line in Python",
        "intro": "When a CSV file is too large to load at once, read it as a stream. The csv module "
        "handles quoting and embedded commas for you, and a generator keeps memory use flat no matter "
        "how many rows the file has.",
        "blocks": [
            (
                "python",
                'import csv\n\n\ndef rows(path):\n    """Yield one dict per row without loading the whole file."""\n'
                '    with open(path, newline="", encoding="utf-8") as fh:\n        for row in csv.DictReader(fh):\n'
                '            yield row\n\n\ntotal = sum(float(r["amount"]) for r in rows("payments.csv"))\n'
                'print(f"total: {total:.2f}")\n',
            )
        ],
        "outro": "Because rows is a generator, the sum consumes one row at a time. The same pattern works "
        "for filtering: wrap the generator in another generator that yields only the rows you need.",
    },
    {
        "title": "Debouncing input events in JavaScript",
        "intro": "Search boxes often send a request on every keystroke. Debouncing waits until the user "
        "has stopped typing for a short interval and then runs the handler once, which saves requests "
        "and avoids results arriving out of order.",
        "blocks": [
            (
                "javascript",
                "function debounce(fn, delayMs) {\n  let timer = null;\n  return (...args) => {\n"
                "    clearTimeout(timer);\n    timer = setTimeout(() => fn(...args), delayMs);\n  };\n}\n\n"
                "const search = debounce(async (query) => {\n"
                "  const res = await fetch(`/api/search?q=${encodeURIComponent(query)}`);\n"
                "  render(await res.json());\n}, 250);\n\n"
                "input.addEventListener('input', (e) => search(e.target.value));\n",
            )
        ],
        "outro": "A delay between two hundred and three hundred milliseconds feels responsive to most "
        "users. For scroll or resize events, consider throttling instead, which runs the handler at "
        "most once per interval while the events continue.",
    },
    {
        "title": "Counting words with a hash map in Rust",
        "intro": "The entry API of Rust's HashMap makes counting concise: look up the key, insert zero "
        "if it is missing, and increment the value in place without a second lookup.",
        "blocks": [
            (
                "rust",
                "use std::collections::HashMap;\n\nfn word_counts(text: &str) -> HashMap<String, usize> {\n"
                "    let mut counts = HashMap::new();\n    for word in text.split_whitespace() {\n"
                "        let word = word.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();\n"
                "        if !word.is_empty() {\n            *counts.entry(word).or_insert(0) += 1;\n        }\n"
                "    }\n    counts\n}\n\nfn main() {\n"
                '    let counts = word_counts("the cat and the hat");\n'
                '    println!("{:?}", counts.get("the")); // Some(2)\n}\n',
            )
        ],
        "outro": "To print the most frequent words, collect the map into a vector of pairs and sort it "
        "by count in descending order, breaking ties alphabetically so the output is deterministic.",
    },
    {
        "title": "Finding duplicate rows with SQL",
        "intro": "Duplicates creep into tables that lack a unique constraint. Grouping by the columns "
        "that should be unique and keeping the groups with more than one row lists them; a window "
        "function then lets you keep exactly one row of each group.",
        "blocks": [
            (
                "sql",
                "SELECT email, COUNT(*) AS n\nFROM customers\nGROUP BY email\nHAVING COUNT(*) > 1\n"
                "ORDER BY n DESC;\n",
            ),
            (
                "sql",
                "DELETE FROM customers\nWHERE id IN (\n  SELECT id FROM (\n    SELECT id,\n"
                "           ROW_NUMBER() OVER (PARTITION BY email ORDER BY created_at) AS rn\n"
                "    FROM customers\n  ) ranked\n  WHERE rn > 1\n);\n",
            ),
        ],
        "outro": "Run the SELECT first and inspect the result before deleting anything, and add a "
        "unique index afterwards so that the problem cannot return.",
    },
    {
        "title": "A small HTTP health check in Go",
        "intro": "Services behind a load balancer need an endpoint that answers quickly when the "
        "process is healthy. The standard library is enough to write one.",
        "blocks": [
            (
                "go",
                'package main\n\nimport (\n\t"encoding/json"\n\t"log"\n\t"net/http"\n\t"time"\n)\n\n'
                "var started = time.Now()\n\nfunc health(w http.ResponseWriter, r *http.Request) {\n"
                '\tw.Header().Set("Content-Type", "application/json")\n'
                '\tjson.NewEncoder(w).Encode(map[string]any{\n\t\t"status": "ok",\n'
                '\t\t"uptime": time.Since(started).String(),\n\t})\n}\n\nfunc main() {\n'
                '\thttp.HandleFunc("/healthz", health)\n\tlog.Fatal(http.ListenAndServe(":8080", nil))\n}\n',
            )
        ],
        "outro": "Keep the handler cheap. A health check that queries the database on every call can "
        "itself become the cause of an outage when the database is slow.",
    },
    {
        "title": "Safer shell scripts with strict mode",
        "intro": "By default a shell script keeps running after a command fails, which can turn a small "
        "error into a destructive one. Three options at the top of a script change that behaviour.",
        "blocks": [
            (
                "bash",
                '#!/usr/bin/env bash\nset -euo pipefail\n\nbackup_dir="${1:?usage: backup.sh DIR}"\n'
                'stamp="$(date +%Y%m%d)"\n\ntar -czf "/tmp/backup-${stamp}.tar.gz" -C "$backup_dir" .\n'
                'echo "wrote /tmp/backup-${stamp}.tar.gz"\n',
            )
        ],
        "outro": "The -e option stops on the first failing command, -u treats unset variables as errors "
        "and pipefail makes a pipeline fail when any of its commands fails, not only the last one.",
    },
    {
        "title": "Binary search without off-by-one errors",
        "intro": "Binary search is short but easy to get wrong. Writing it over a half-open interval, "
        "where lo is inclusive and hi is exclusive, removes most of the edge cases.",
        "blocks": [
            (
                "python",
                "def lower_bound(items, target):\n"
                '    """Index of the first element >= target (len(items) if none)."""\n'
                "    lo, hi = 0, len(items)\n    while lo < hi:\n        mid = (lo + hi) // 2\n"
                "        if items[mid] < target:\n            lo = mid + 1\n        else:\n            hi = mid\n"
                "    return lo\n\n\nassert lower_bound([1, 3, 3, 7], 3) == 1\nassert lower_bound([1, 3, 3, 7], 8) == 4\n",
            )
        ],
        "outro": "The loop invariant is that every element before lo is smaller than the target and "
        "every element from hi onwards is greater or equal. When lo meets hi, the answer is found.",
    },
    {
        "title": "Memory-safe string copying in C",
        "intro": "The classic strcpy function writes past the end of the destination buffer when the "
        "source is too long. A bounded copy that always terminates the string avoids the overflow.",
        "blocks": [
            (
                "c",
                "#include <stdio.h>\n#include <string.h>\n\n"
                "size_t copy_str(char *dst, size_t size, const char *src) {\n"
                "    size_t len = strlen(src);\n    if (size > 0) {\n"
                "        size_t n = len < size - 1 ? len : size - 1;\n        memcpy(dst, src, n);\n"
                "        dst[n] = '\\0';\n    }\n    return len; /* >= size means truncated */\n}\n\n"
                "int main(void) {\n    char buf[8];\n"
                '    if (copy_str(buf, sizeof buf, "hello, world") >= sizeof buf)\n'
                '        puts("truncated");\n    printf("%s\\n", buf);\n    return 0;\n}\n',
            )
        ],
        "outro": "Returning the full source length lets the caller detect truncation, the same "
        "convention that the BSD strlcpy function uses.",
    },
    {
        "title": "Retrying network calls with exponential backoff",
        "intro": "Transient failures are normal in distributed systems. Retrying immediately can make "
        "an overloaded server worse; waiting longer after each failure, with some random jitter, "
        "spreads the retries out.",
        "blocks": [
            (
                "python",
                "import random\nimport time\n\n\ndef with_retries(call, attempts=5, base=0.5, cap=8.0):\n"
                "    for attempt in range(attempts):\n        try:\n            return call()\n"
                "        except ConnectionError:\n            if attempt == attempts - 1:\n                raise\n"
                "            delay = min(cap, base * 2 ** attempt)\n"
                "            time.sleep(random.uniform(0, delay))\n",
            )
        ],
        "outro": "Only retry operations that are safe to repeat. A payment request, for example, needs "
        "an idempotency key so that a retry does not charge the customer twice.",
    },
    {
        "title": "Unit testing a pure function with pytest",
        "intro": "Pure functions, which depend only on their arguments, are the easiest code to test. "
        "Parametrised tests describe many cases in a compact table.",
        "blocks": [
            (
                "python",
                "import pytest\n\n\ndef slugify(title: str) -> str:\n"
                '    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()\n'
                '    return "-".join(words)\n\n\n@pytest.mark.parametrize(\n    ("title", "slug"),\n'
                '    [("Hello World", "hello-world"), ("  A  B ", "a-b"), ("C++ & Rust!", "c-rust")],\n)\n'
                "def test_slugify(title, slug):\n    assert slugify(title) == slug\n",
            )
        ],
        "outro": "When a bug is reported, add the failing input to the table first, watch the test "
        "fail, and then fix the function.",
    },
]

MATH_PAGES: list[dict] = [
    {
        "title": "Solving quadratic equations",
        "paragraphs": [
            r"A quadratic equation has the form \(ax^2 + bx + c = 0\) with \(a \neq 0\). Completing the "
            r"square gives the familiar formula \[x = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}.\]",
            r"The expression under the root, the discriminant \(\Delta = b^2 - 4ac\), decides how many "
            r"real solutions exist. If \(\Delta > 0\) there are two, if \(\Delta = 0\) there is exactly "
            r"one repeated root, and if \(\Delta < 0\) the solutions form a complex conjugate pair.",
            r"For example, \(x^2 - 5x + 6 = 0\) has \(\Delta = 25 - 24 = 1\), so "
            r"\(x = (5 \pm 1)/2\), giving \(x = 3\) or \(x = 2\). Checking by substitution is always "
            r"worthwhile: \(3^2 - 15 + 6 = 0\).",
            r"When \(b\) is large compared with \(a\) and \(c\), computing \(-b + \sqrt{\Delta}\) loses "
            r"precision in floating point. Numerical libraries instead compute "
            r"\(q = -\tfrac{1}{2}\left(b + \operatorname{sign}(b)\sqrt{\Delta}\right)\) and the roots "
            r"\(x_1 = q/a\) and \(x_2 = c/q\).",
        ],
    },
    {
        "title": "Why the sum of the first n odd numbers is a square",
        "paragraphs": [
            r"Add the first few odd numbers: \(1 = 1\), \(1 + 3 = 4\), \(1 + 3 + 5 = 9\), "
            r"\(1 + 3 + 5 + 7 = 16\). The pattern suggests \[\sum_{k=1}^{n} (2k - 1) = n^2.\]",
            r"A proof by induction is short. The statement holds for \(n = 1\). If it holds for \(n\), "
            r"then \(\sum_{k=1}^{n+1} (2k-1) = n^2 + 2(n+1) - 1 = n^2 + 2n + 1 = (n+1)^2\).",
            "There is also a picture proof. Arrange dots in a square of side n. To grow it to side n + 1 "
            "you add an L-shaped border of n + n + 1 = 2n + 1 dots, which is exactly the next odd number.",
        ],
    },
    {
        "title": "Radioactive decay and half-life",
        "paragraphs": [
            r"A radioactive sample decays at a rate proportional to the number of undecayed nuclei: "
            r"\(\frac{dN}{dt} = -\lambda N\). Its solution is \(N(t) = N_0 e^{-\lambda t}\), where "
            r"\(\lambda\) is the decay constant.",
            r"The half-life is the time after which half of the nuclei remain: "
            r"\(N_0/2 = N_0 e^{-\lambda t_{1/2}}\), so \(t_{1/2} = \ln 2 / \lambda\). Carbon-14 has a "
            r"half-life of about 5,730 years, which makes it useful for dating organic material up to "
            r"roughly fifty thousand years old.",
            r"After \(n\) half-lives the fraction remaining is \(2^{-n}\). After ten half-lives less than "
            r"one thousandth of the original nuclei are left, since \(2^{10} = 1024\).",
        ],
    },
    {
        "title": "The ideal gas law",
        "paragraphs": [
            r"For many gases at everyday temperatures and pressures, pressure, volume and temperature "
            r"are linked by \(pV = nRT\), where \(n\) is the amount of substance in moles and "
            r"\(R \approx 8.314\ \mathrm{J\,mol^{-1}\,K^{-1}}\) is the gas constant.",
            r"At standard temperature \(T = 273.15\ \mathrm{K}\) and pressure \(p = 101\,325\ \mathrm{Pa}\) "
            r"one mole occupies \(V = nRT/p \approx 0.0224\ \mathrm{m^3}\), or about 22.4 litres.",
            "The law assumes that molecules have no volume and do not attract each other. Real gases "
            "deviate at high pressure and low temperature, and the van der Waals equation adds two "
            r"correction terms: \((p + a n^2/V^2)(V - nb) = nRT\).",
        ],
    },
    {
        "title": "Photosynthesis in one equation",
        "paragraphs": [
            "Plants, algae and some bacteria convert light energy into chemical energy. The overall "
            r"reaction is \[6\,\mathrm{CO_2} + 6\,\mathrm{H_2O} \xrightarrow{\text{light}} "
            r"\mathrm{C_6H_{12}O_6} + 6\,\mathrm{O_2}.\]",
            "The equation hides two stages. In the light-dependent reactions, chlorophyll absorbs light and "
            "water is split, releasing oxygen and producing the energy carriers ATP and NADPH. In the "
            "Calvin cycle, these carriers power the fixation of carbon dioxide into sugars.",
            "Only a small fraction of the sunlight reaching a leaf ends up stored in sugar, typically one "
            "to two percent in crops, because much of the light is reflected, transmitted or lost as heat.",
        ],
    },
    {
        "title": "Expected value of a dice game",
        "paragraphs": [
            r"The expected value of a random variable is its probability-weighted average, "
            r"\(\mathbb{E}[X] = \sum_x x\,P(X = x)\). For one fair die, "
            r"\(\mathbb{E}[X] = \frac{1 + 2 + 3 + 4 + 5 + 6}{6} = 3.5\).",
            r"Consider a game in which you pay 4 to roll a die and win the number shown, doubled if it is "
            r"a six. The expected winnings are \(\frac{1+2+3+4+5}{6} + \frac{12}{6} = 2.5 + 2 = 4.5\), so "
            r"the game is worth \(4.5 - 4 = 0.5\) per round to the player on average.",
            "Linearity of expectation makes longer games easy: the expected total of ten rounds is ten "
            "times the expected value of one round, whether or not the rounds are independent.",
        ],
    },
    {
        "title": "The Pythagorean theorem and distances",
        "paragraphs": [
            r"In a right triangle with legs \(a\) and \(b\) and hypotenuse \(c\), \(a^2 + b^2 = c^2\). "
            r"The theorem gives the distance between two points in the plane: "
            r"\(d = \sqrt{(x_2 - x_1)^2 + (y_2 - y_1)^2}\).",
            "In three dimensions the same idea applies twice, once across the floor of a box and once up "
            "to the opposite corner.",
        ],
        "mathml": '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><mi>d</mi><mo>=</mo>'
        "<msqrt><msup><mi>x</mi><mn>2</mn></msup><mo>+</mo><msup><mi>y</mi><mn>2</mn></msup><mo>+</mo>"
        "<msup><mi>z</mi><mn>2</mn></msup></msqrt></math>",
    },
    {
        "title": "Ohm's law and electrical power",
        "paragraphs": [
            r"The current through a resistor is proportional to the voltage across it: \(V = IR\). "
            r"Combining this with the power relation \(P = VI\) gives \(P = I^2 R = V^2 / R\).",
            r"A 2 kW kettle on a 230 V supply draws \(I = P/V \approx 8.7\ \mathrm{A}\), and its heating "
            r"element has a resistance of about \(R = V^2/P \approx 26\ \Omega\).",
            "The same relations explain why power lines use high voltages: for a given power, a higher "
            "voltage means a smaller current and therefore much smaller resistive losses in the cables.",
        ],
    },
]
