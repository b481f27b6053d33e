;; The byte loop of `record-bytes.ts`'s `compactRecord`, in WebAssembly: the JavaScript loop runs at
;; about 6 ns a byte on this machine's cores (a bare copy loop in JavaScript at 2.5), this one at
;; under 1, and a reference-format record is ~1.8 KB. It does only what is done per byte:
;;
;; - checks the line's syntax (the same states as the JavaScript loop: whitespace is dropped only
;;   between tokens, so an accepted line is JSON and its compact text is unique to it);
;; - copies it without that whitespace to `out + 64` (the first 64 bytes are left for the previous
;;   hash), members in the order written, chain members included;
;; - writes a tape for JavaScript (`record-bytes.ts`, `compactFromTape`): per object opened, per
;;   key and per object closed, 16 bytes:
;;     i32 kind | depth << 4  (kind 1 open, 2 key, 3 close; depth: containers open, 1 = the record)
;;     i32 output offset      ('{', the key's opening quote, '}')
;;     i32 after the key      (key: offset past its closing quote)
;;     i32 FNV-1a of the key  (key: its bytes, as written)
;;   JavaScript then reads the fields, puts each object's members in key order and takes the chain
;;   members out: per key, not per byte.
;;
;; It returns the output's end, or -1 where the JavaScript loop refuses the line (bad syntax, an
;; escaped key, a control character, too deep, a tape too long): the caller then goes the string
;; way. The global `ntape` is the number of tape entries written.
;;
;; Memory (set up by `record-wasm.ts`): bytes 0..255 the byte classes (as `CLS` in record-bytes.ts:
;; 0 value, 1 space, 2 quote, 3 '{', 4 '}', 5 '[', 6 ']', 7 ',', 8 ':', 9 bad); bytes 256..320 the
;; container stack (1 object, 0 array, 2 below the record). The byte at `e` must not be a value
;; byte (a line's newline, or a sentinel the caller writes after its block).
(module
  (memory (export "memory") 1)
  (global $ntape (export "ntape") (mut i32) (i32.const 0))

  (func (export "compact")
    (param $s i32) (param $e i32) (param $out i32) (param $tape i32) (param $tapeEnd i32)
    (result i32)
    (local $i i32) (local $w i32) (local $c i32) (local $st i32) (local $depth i32)
    (local $t i32) (local $h i32) (local $y i32) (local $skip i32)
    ;; States: 0 value, 1 value or ']', 2 key, 3 key or '}', 4 ':', 5 after a value, 6 done.
    (local.set $i (local.get $s))
    (local.set $w (i32.add (local.get $out) (i32.const 64)))
    (local.set $t (local.get $tape))
    (i32.store8 (i32.const 256) (i32.const 2))
    (block $refuse
      (loop $next
        (if (i32.ge_u (local.get $i) (local.get $e))
          (then
            (br_if $refuse (i32.ne (local.get $st) (i32.const 6)))
            (global.set $ntape (i32.shr_u (i32.sub (local.get $t) (local.get $tape)) (i32.const 4)))
            (return (local.get $w))))
        (local.set $c (i32.load8_u (local.get $i)))
        (block $bad
        (block $colon
        (block $comma
        (block $rbrack
        (block $lbrack
        (block $rbrace
        (block $lbrace
        (block $quote
        (block $space
        (block $value
          (br_table $value $space $quote $lbrace $rbrace $lbrack $rbrack $comma $colon $bad
            (i32.load8_u (local.get $c))))
        ;; A number or literal.
        (br_if $refuse (i32.or (i32.gt_u (local.get $st) (i32.const 1)) (i32.eqz (local.get $depth))))
        (if (i32.eqz (i32.load8_u (i32.add (i32.const 256) (local.get $depth))))
          (then
            ;; In an array (states, action chunks: most of a record): number after number, ","
            ;; or ", " between them, in one loop.
            (block $arrayEnd
              (loop $number
                (loop $run
                  (i32.store8 (local.get $w) (local.get $c))
                  (local.set $w (i32.add (local.get $w) (i32.const 1)))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (local.set $c (i32.load8_u (local.get $i)))
                  (br_if $run (i32.eqz (i32.load8_u (local.get $c)))))
                (br_if $arrayEnd (i32.ne (local.get $c) (i32.const 0x2c)))
                (local.set $y (i32.load8_u (i32.add (local.get $i) (i32.const 1))))
                (local.set $skip (i32.const 1))
                (if (i32.eq (local.get $y) (i32.const 0x20))
                  (then
                    (local.set $y (i32.load8_u (i32.add (local.get $i) (i32.const 2))))
                    (local.set $skip (i32.const 2))))
                (br_if $arrayEnd (i32.load8_u (local.get $y)))
                (i32.store8 (local.get $w) (i32.const 0x2c))
                (local.set $w (i32.add (local.get $w) (i32.const 1)))
                (local.set $i (i32.add (local.get $i) (local.get $skip)))
                (local.set $c (local.get $y))
                (br $number))))
          (else
            (loop $run
              (i32.store8 (local.get $w) (local.get $c))
              (local.set $w (i32.add (local.get $w) (i32.const 1)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (local.set $c (i32.load8_u (local.get $i)))
              (br_if $run (i32.eqz (i32.load8_u (local.get $c)))))))
        (br_if $refuse (i32.gt_u (local.get $i) (local.get $e)))
        (local.set $st (i32.const 5))
        (br $next))
        ;; Whitespace between tokens.
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))
        ;; A string: a key (in an object, where a key is due) or a value.
        (if (i32.or (i32.eq (local.get $st) (i32.const 2)) (i32.eq (local.get $st) (i32.const 3)))
          (then
            (br_if $refuse (i32.ge_u (local.get $t) (local.get $tapeEnd)))
            (i32.store offset=4 (local.get $t) (local.get $w))
            (i32.store8 (local.get $w) (i32.const 0x22))
            (local.set $w (i32.add (local.get $w) (i32.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (local.set $h (i32.const 0x811c9dc5))
            (block $keyEnd
              (loop $key
                (br_if $refuse (i32.ge_u (local.get $i) (local.get $e)))
                (local.set $c (i32.load8_u (local.get $i)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $keyEnd (i32.eq (local.get $c) (i32.const 0x22)))
                ;; An escaped key is decoded before sorting by a real writer: the string way.
                (br_if $refuse (i32.or (i32.eq (local.get $c) (i32.const 0x5c)) (i32.lt_u (local.get $c) (i32.const 0x20))))
                (i32.store8 (local.get $w) (local.get $c))
                (local.set $w (i32.add (local.get $w) (i32.const 1)))
                (local.set $h (i32.mul (i32.xor (local.get $h) (local.get $c)) (i32.const 16777619)))
                (br $key)))
            (i32.store8 (local.get $w) (i32.const 0x22))
            (local.set $w (i32.add (local.get $w) (i32.const 1)))
            (i32.store (local.get $t) (i32.or (i32.const 2) (i32.shl (local.get $depth) (i32.const 4))))
            (i32.store offset=8 (local.get $t) (local.get $w))
            (i32.store offset=12 (local.get $t) (local.get $h))
            (local.set $t (i32.add (local.get $t) (i32.const 16)))
            (local.set $st (i32.const 4))
            (br $next)))
        (br_if $refuse (i32.or (i32.gt_u (local.get $st) (i32.const 1)) (i32.eqz (local.get $depth))))
        (i32.store8 (local.get $w) (i32.const 0x22))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (block $strEnd
          (loop $str
            (br_if $refuse (i32.ge_u (local.get $i) (local.get $e)))
            (local.set $c (i32.load8_u (local.get $i)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (i32.store8 (local.get $w) (local.get $c))
            (local.set $w (i32.add (local.get $w) (i32.const 1)))
            (br_if $strEnd (i32.eq (local.get $c) (i32.const 0x22)))
            (if (i32.eq (local.get $c) (i32.const 0x5c))
              (then
                (br_if $refuse (i32.ge_u (local.get $i) (local.get $e)))
                (i32.store8 (local.get $w) (i32.load8_u (local.get $i)))
                (local.set $w (i32.add (local.get $w) (i32.const 1)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))))
            (br $str)))
        (local.set $st (i32.const 5))
        (br $next))
        ;; '{'
        (br_if $refuse (i32.gt_u (local.get $st) (i32.const 1)))
        (br_if $refuse (i32.ge_u (local.get $depth) (i32.const 64)))
        (br_if $refuse (i32.ge_u (local.get $t) (local.get $tapeEnd)))
        (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
        (i32.store (local.get $t) (i32.or (i32.const 1) (i32.shl (local.get $depth) (i32.const 4))))
        (i32.store offset=4 (local.get $t) (local.get $w))
        (local.set $t (i32.add (local.get $t) (i32.const 16)))
        (i32.store8 (i32.add (i32.const 256) (local.get $depth)) (i32.const 1))
        (i32.store8 (local.get $w) (i32.const 0x7b))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $st (i32.const 3))
        (br $next))
        ;; '}'
        (br_if $refuse (i32.and (i32.ne (local.get $st) (i32.const 5)) (i32.ne (local.get $st) (i32.const 3))))
        (br_if $refuse (i32.ne (i32.load8_u (i32.add (i32.const 256) (local.get $depth))) (i32.const 1)))
        (br_if $refuse (i32.ge_u (local.get $t) (local.get $tapeEnd)))
        (i32.store (local.get $t) (i32.or (i32.const 3) (i32.shl (local.get $depth) (i32.const 4))))
        (i32.store offset=4 (local.get $t) (local.get $w))
        (local.set $t (i32.add (local.get $t) (i32.const 16)))
        (i32.store8 (local.get $w) (i32.const 0x7d))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
        (local.set $st (select (i32.const 6) (i32.const 5) (i32.eqz (local.get $depth))))
        (br $next))
        ;; '['
        (br_if $refuse (i32.or (i32.gt_u (local.get $st) (i32.const 1)) (i32.eqz (local.get $depth))))
        (br_if $refuse (i32.ge_u (local.get $depth) (i32.const 64)))
        (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
        (i32.store8 (i32.add (i32.const 256) (local.get $depth)) (i32.const 0))
        (i32.store8 (local.get $w) (i32.const 0x5b))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $st (i32.const 1))
        (br $next))
        ;; ']'
        (br_if $refuse (i32.and (i32.ne (local.get $st) (i32.const 5)) (i32.ne (local.get $st) (i32.const 1))))
        (br_if $refuse (i32.ne (i32.load8_u (i32.add (i32.const 256) (local.get $depth))) (i32.const 0)))
        (i32.store8 (local.get $w) (i32.const 0x5d))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
        (local.set $st (i32.const 5))
        (br $next))
        ;; ','
        (br_if $refuse (i32.ne (local.get $st) (i32.const 5)))
        (i32.store8 (local.get $w) (i32.const 0x2c))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $st (select (i32.const 2) (i32.const 0) (i32.load8_u (i32.add (i32.const 256) (local.get $depth)))))
        (br $next))
        ;; ':'
        (br_if $refuse (i32.ne (local.get $st) (i32.const 4)))
        (i32.store8 (local.get $w) (i32.const 0x3a))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $st (i32.const 0))
        (br $next))
        ;; A control character or a byte the loop does not take.
        (br $refuse)))
    (i32.const -1))
;; The moves `compactFromTape` (record-bytes.ts) wrote at `cmd`, carried out in order, innermost
  ;; objects first: per object `first, end, n`, then its n members' `[start, end)` in key order. The
  ;; object's text [first, end) goes to `tmp` (past everything written) and its members come back
  ;; in that order with commas between. The last object is the record: its end moves (its chain
  ;; members are not listed), so its '}' is written here and the text's end returned. The two chain
  ;; values go aside first: the previous hash to `out` (where the hashed text starts), the stored one
  ;; to `stash`.
  (func (export "place")
    (param $cmd i32) (param $end i32) (param $tmp i32)
    (param $prev i32) (param $out i32) (param $stored i32) (param $stash i32)
    (result i32)
    (local $first i32) (local $o i32) (local $n i32) (local $t i32) (local $shift i32)
    (local $a i32) (local $len i32)
    (call $copy (local.get $out) (local.get $prev) (i32.const 64))
    (call $copy (local.get $stash) (local.get $stored) (i32.const 64))
    (block $done
      (loop $objects
        (br_if $done (i32.ge_u (local.get $cmd) (local.get $end)))
        (local.set $first (i32.load (local.get $cmd)))
        (local.set $o (i32.load offset=4 (local.get $cmd)))
        (local.set $n (i32.load offset=8 (local.get $cmd)))
        (local.set $cmd (i32.add (local.get $cmd) (i32.const 12)))
        (call $copy (local.get $tmp) (local.get $first) (i32.sub (local.get $o) (local.get $first)))
        (local.set $shift (i32.sub (local.get $tmp) (local.get $first)))
        (local.set $t (local.get $first))
        (block $membersDone
          (loop $members
            (br_if $membersDone (i32.eqz (local.get $n)))
            (local.set $a (i32.load (local.get $cmd)))
            (local.set $len (i32.sub (i32.load offset=4 (local.get $cmd)) (local.get $a)))
            (local.set $cmd (i32.add (local.get $cmd) (i32.const 8)))
            (call $copy (local.get $t) (i32.add (local.get $a) (local.get $shift)) (local.get $len))
            (local.set $t (i32.add (local.get $t) (local.get $len)))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (if (local.get $n)
              (then
                (i32.store8 (local.get $t) (i32.const 0x2c))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))))
            (br $members)))
        (br $objects)))
    (i32.store8 (local.get $t) (i32.const 0x7d))
    (i32.add (local.get $t) (i32.const 1)))

  ;; Copies n bytes forward, 8 at a time (the regions never overlap where this is called).
  (func $copy (param $d i32) (param $s i32) (param $n i32)
    (block $words
      (loop $word
        (br_if $words (i32.lt_u (local.get $n) (i32.const 8)))
        (i64.store (local.get $d) (i64.load (local.get $s)))
        (local.set $d (i32.add (local.get $d) (i32.const 8)))
        (local.set $s (i32.add (local.get $s) (i32.const 8)))
        (local.set $n (i32.sub (local.get $n) (i32.const 8)))
        (br $word)))
    (block $bytes
      (loop $byte
        (br_if $bytes (i32.eqz (local.get $n)))
        (i32.store8 (local.get $d) (i32.load8_u (local.get $s)))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $byte))))
)
