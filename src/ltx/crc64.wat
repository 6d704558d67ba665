;; CRC-64/GO-ISO kernel (crc64.ts runs it when the runtime can): 4 independent lanes of 64-bit words.
;;
;; Built into crc64.wasm and crc64-wasm.ts by `npm run wasm` (scripts/build-wasm.ts). The update per
;; word is the one crc64.ts documents: v = r ^ word; t = v ^ v<<63 ^ v<<61 ^ v<<60 (the bits that
;; leave the bottom, folded back into the top); r' = t ^ t>>1 ^ t>>3 ^ t>>4, written as
;; u = t ^ t>>3, r' = u ^ u>>1. One lane is a chain of dependent operations; four lanes over four
;; contiguous segments let the CPU overlap them, and crc64.ts joins the four registers with its
;; shift tables (CRC is linear).
(module
  ;; Two pages: the four lane results at 0..31, the bytes to checksum copied in from 64.
  (memory (export "memory") 2)

  ;; Lanes j = 0..3 checksum [p + j*seg, p + (j+1)*seg), seg a multiple of 8. Lane 0 starts from the
  ;; register (hi, lo), the others from zero. Lane j's register is stored at out + 8*j (little endian).
  (func (export "run4") (param $p i32) (param $seg i32) (param $hi i32) (param $lo i32) (param $out i32)
    (local $end i32)
    (local $r0 i64) (local $r1 i64) (local $r2 i64) (local $r3 i64)
    (local $v i64) (local $t i64) (local $u i64)
    (local.set $r0
      (i64.or (i64.shl (i64.extend_i32_u (local.get $hi)) (i64.const 32)) (i64.extend_i32_u (local.get $lo))))
    (local.set $end (i32.add (local.get $p) (local.get $seg)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))

        (local.set $v (i64.xor (local.get $r0) (i64.load (local.get $p))))
        (local.set $t (i64.xor (local.get $v) (i64.xor (i64.shl (local.get $v) (i64.const 63))
          (i64.xor (i64.shl (local.get $v) (i64.const 61)) (i64.shl (local.get $v) (i64.const 60))))))
        (local.set $u (i64.xor (local.get $t) (i64.shr_u (local.get $t) (i64.const 3))))
        (local.set $r0 (i64.xor (local.get $u) (i64.shr_u (local.get $u) (i64.const 1))))

        (local.set $v (i64.xor (local.get $r1) (i64.load (i32.add (local.get $p) (local.get $seg)))))
        (local.set $t (i64.xor (local.get $v) (i64.xor (i64.shl (local.get $v) (i64.const 63))
          (i64.xor (i64.shl (local.get $v) (i64.const 61)) (i64.shl (local.get $v) (i64.const 60))))))
        (local.set $u (i64.xor (local.get $t) (i64.shr_u (local.get $t) (i64.const 3))))
        (local.set $r1 (i64.xor (local.get $u) (i64.shr_u (local.get $u) (i64.const 1))))

        (local.set $v (i64.xor (local.get $r2)
          (i64.load (i32.add (local.get $p) (i32.shl (local.get $seg) (i32.const 1))))))
        (local.set $t (i64.xor (local.get $v) (i64.xor (i64.shl (local.get $v) (i64.const 63))
          (i64.xor (i64.shl (local.get $v) (i64.const 61)) (i64.shl (local.get $v) (i64.const 60))))))
        (local.set $u (i64.xor (local.get $t) (i64.shr_u (local.get $t) (i64.const 3))))
        (local.set $r2 (i64.xor (local.get $u) (i64.shr_u (local.get $u) (i64.const 1))))

        (local.set $v (i64.xor (local.get $r3)
          (i64.load (i32.add (local.get $p) (i32.mul (local.get $seg) (i32.const 3))))))
        (local.set $t (i64.xor (local.get $v) (i64.xor (i64.shl (local.get $v) (i64.const 63))
          (i64.xor (i64.shl (local.get $v) (i64.const 61)) (i64.shl (local.get $v) (i64.const 60))))))
        (local.set $u (i64.xor (local.get $t) (i64.shr_u (local.get $t) (i64.const 3))))
        (local.set $r3 (i64.xor (local.get $u) (i64.shr_u (local.get $u) (i64.const 1))))

        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $next)))
    (i64.store offset=0 (local.get $out) (local.get $r0))
    (i64.store offset=8 (local.get $out) (local.get $r1))
    (i64.store offset=16 (local.get $out) (local.get $r2))
    (i64.store offset=24 (local.get $out) (local.get $r3))))
