//! Record Access Control Point (0x2A52): every request encoded and decoded back,
//! every response, the refusals, and whole "report stored records" sessions with a
//! glucose meter.

use nara_core::device::glucose::{decode_context, decode_measurement};
use nara_core::device::racp::{
    GlucoseSession, RacpFilter, RacpRequest, RacpResponse, RacpResponseCode, SessionStep,
    decode_request, decode_response,
};
use nara_core::device::{Characteristic, DecodeError, DecodeProblem, Decoded, decode};

mod device_support;

use device_support::{trailing, truncated};

fn inconsistent(err: &DecodeError) -> bool {
    matches!(err.problem, DecodeProblem::Inconsistent { .. })
}

// ---------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------

#[test]
fn requests_encode_as_the_specification_lays_them_out() {
    use RacpFilter::*;
    use RacpRequest::*;
    for (request, bytes) in [
        (ReportStoredRecords(All), vec![0x01, 0x01]),
        (
            ReportStoredRecords(AtMost(0x0102)),
            vec![0x01, 0x02, 0x01, 0x02, 0x01],
        ),
        (
            ReportStoredRecords(AtLeast(5)),
            vec![0x01, 0x03, 0x01, 0x05, 0x00],
        ),
        (
            ReportStoredRecords(Within(0x0010, 0x0120)),
            vec![0x01, 0x04, 0x01, 0x10, 0x00, 0x20, 0x01],
        ),
        (ReportStoredRecords(First), vec![0x01, 0x05]),
        (ReportStoredRecords(Last), vec![0x01, 0x06]),
        (DeleteStoredRecords(All), vec![0x02, 0x01]),
        (
            DeleteStoredRecords(AtMost(9)),
            vec![0x02, 0x02, 0x01, 0x09, 0x00],
        ),
        (
            DeleteStoredRecords(AtLeast(0xFFFF)),
            vec![0x02, 0x03, 0x01, 0xFF, 0xFF],
        ),
        (
            DeleteStoredRecords(Within(1, 2)),
            vec![0x02, 0x04, 0x01, 0x01, 0x00, 0x02, 0x00],
        ),
        (DeleteStoredRecords(First), vec![0x02, 0x05]),
        (DeleteStoredRecords(Last), vec![0x02, 0x06]),
        (Abort, vec![0x03, 0x00]),
        (ReportNumberOfStoredRecords(All), vec![0x04, 0x01]),
        (
            ReportNumberOfStoredRecords(AtMost(0)),
            vec![0x04, 0x02, 0x01, 0x00, 0x00],
        ),
        (
            ReportNumberOfStoredRecords(AtLeast(0x1234)),
            vec![0x04, 0x03, 0x01, 0x34, 0x12],
        ),
        (
            ReportNumberOfStoredRecords(Within(7, 7)),
            vec![0x04, 0x04, 0x01, 0x07, 0x00, 0x07, 0x00],
        ),
        (ReportNumberOfStoredRecords(First), vec![0x04, 0x05]),
        (ReportNumberOfStoredRecords(Last), vec![0x04, 0x06]),
    ] {
        assert_eq!(request.encode(), bytes, "{request:?}");
        assert_eq!(decode_request(&bytes), Ok(request), "{bytes:02X?}");
    }
}

#[test]
fn every_request_round_trips() {
    let numbers = [0u16, 1, 0x00FF, 0x0100, 0x7FFF, 0xFFFE, 0xFFFF];
    let mut filters = vec![RacpFilter::All, RacpFilter::First, RacpFilter::Last];
    for &n in &numbers {
        filters.push(RacpFilter::AtMost(n));
        filters.push(RacpFilter::AtLeast(n));
        for &m in &numbers {
            if n <= m {
                filters.push(RacpFilter::Within(n, m));
            }
        }
    }
    let mut requests = vec![RacpRequest::Abort];
    for f in filters {
        requests.push(RacpRequest::ReportStoredRecords(f));
        requests.push(RacpRequest::DeleteStoredRecords(f));
        requests.push(RacpRequest::ReportNumberOfStoredRecords(f));
    }
    for r in requests {
        assert_eq!(decode_request(&r.encode()), Ok(r), "{r:?}");
    }
}

#[test]
fn malformed_requests_are_refused_by_field() {
    let cases: Vec<(Vec<u8>, DecodeError)> = vec![
        (vec![], truncated("Op Code", 0, 1, 0)),
        (vec![0x01], truncated("Operator", 1, 1, 0)),
        (vec![0x03], truncated("Operator", 1, 1, 0)),
        (vec![0x01, 0x03], truncated("Operand", 2, 1, 0)),
        (vec![0x01, 0x03, 0x01], truncated("Operand", 3, 2, 0)),
        (vec![0x01, 0x03, 0x01, 0x05], truncated("Operand", 3, 2, 1)),
        (
            vec![0x01, 0x04, 0x01, 0x05, 0x00],
            truncated("Operand", 5, 2, 0),
        ),
        (
            vec![0x01, 0x04, 0x01, 0x05, 0x00, 0x06],
            truncated("Operand", 5, 2, 1),
        ),
        // Op codes 0 and 7–255 are reserved.
        (
            vec![0x00, 0x01],
            DecodeError::new("Op Code", 0, DecodeProblem::Reserved { raw: 0 }),
        ),
        (
            vec![0x07, 0x01],
            DecodeError::new("Op Code", 0, DecodeProblem::Reserved { raw: 7 }),
        ),
        (
            vec![0xFF],
            DecodeError::new("Op Code", 0, DecodeProblem::Reserved { raw: 0xFF }),
        ),
        // Operators 7–255 are reserved.
        (
            vec![0x01, 0x07],
            DecodeError::new("Operator", 1, DecodeProblem::Reserved { raw: 7 }),
        ),
        (
            vec![0x04, 0xFF],
            DecodeError::new("Operator", 1, DecodeProblem::Reserved { raw: 0xFF }),
        ),
        // Filter types other than the sequence number are refused as reserved (2,
        // user facing time, is not one Nära writes).
        (
            vec![0x01, 0x03, 0x02, 0x05, 0x00],
            DecodeError::new("Operand", 2, DecodeProblem::Reserved { raw: 2 }),
        ),
        (
            vec![0x02, 0x04, 0x00, 0x05, 0x00, 0x06, 0x00],
            DecodeError::new("Operand", 2, DecodeProblem::Reserved { raw: 0 }),
        ),
        // Trailing bytes, after a bare operator and after an operand.
        (vec![0x01, 0x01, 0x00], trailing("Operator", 2, 1)),
        (vec![0x03, 0x00, 0x00, 0x00], trailing("Operator", 2, 2)),
        (
            vec![0x01, 0x03, 0x01, 0x05, 0x00, 0x00],
            trailing("Operand", 5, 1),
        ),
        (
            vec![0x01, 0x04, 0x01, 0x05, 0x00, 0x06, 0x00, 0x00],
            trailing("Operand", 7, 1),
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(decode_request(&bytes), Err(expected), "{bytes:02X?}");
    }
}

#[test]
fn contradictory_requests_are_inconsistent() {
    for (bytes, field, offset) in [
        // A range that starts after it ends.
        (vec![0x01, 0x04, 0x01, 0x06, 0x00, 0x05, 0x00], "Operand", 2),
        (vec![0x02, 0x04, 0x01, 0xFF, 0xFF, 0x00, 0x00], "Operand", 2),
        // Abort with an operator other than null.
        (vec![0x03, 0x01], "Operator", 1),
        // A request selecting records with the null operator.
        (vec![0x01, 0x00], "Operator", 1),
        (vec![0x02, 0x00], "Operator", 1),
        (vec![0x04, 0x00], "Operator", 1),
        // Response op codes written as requests.
        (vec![0x05, 0x00, 0x01, 0x00], "Op Code", 0),
        (vec![0x06, 0x00, 0x01, 0x01], "Op Code", 0),
    ] {
        let err = decode_request(&bytes).expect_err("refused");
        assert!(inconsistent(&err), "{bytes:02X?}: {err}");
        assert_eq!((err.field, err.offset), (field, offset), "{bytes:02X?}");
    }
    // Encoding writes a backwards range as given; decoding refuses it.
    let backwards = RacpRequest::ReportStoredRecords(RacpFilter::Within(6, 5));
    assert_eq!(
        backwards.encode(),
        vec![0x01, 0x04, 0x01, 0x06, 0x00, 0x05, 0x00]
    );
    assert!(inconsistent(
        &decode_request(&backwards.encode()).expect_err("refused")
    ));
}

#[test]
fn filters_know_their_operator() {
    for (filter, operator) in [
        (RacpFilter::All, 1),
        (RacpFilter::AtMost(1), 2),
        (RacpFilter::AtLeast(1), 3),
        (RacpFilter::Within(1, 2), 4),
        (RacpFilter::First, 5),
        (RacpFilter::Last, 6),
    ] {
        assert_eq!(filter.operator(), operator);
    }
}

// ---------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------

#[test]
fn number_of_stored_records_responses() {
    for (bytes, n) in [
        ([0x05, 0x00, 0x00, 0x00], 0u16),
        ([0x05, 0x00, 0x2A, 0x01], 298),
        ([0x05, 0x00, 0xFF, 0xFF], 0xFFFF),
    ] {
        assert_eq!(
            decode_response(&bytes),
            Ok(RacpResponse::NumberOfStoredRecords(n))
        );
        assert_eq!(
            decode(Characteristic::RecordAccessControlPoint, &bytes),
            Ok(Decoded::RecordAccessControlPoint(
                RacpResponse::NumberOfStoredRecords(n)
            ))
        );
    }
}

#[test]
fn every_response_code_value() {
    let named = [
        (1u8, RacpResponseCode::Success),
        (2, RacpResponseCode::OpCodeNotSupported),
        (3, RacpResponseCode::InvalidOperator),
        (4, RacpResponseCode::OperatorNotSupported),
        (5, RacpResponseCode::InvalidOperand),
        (6, RacpResponseCode::NoRecordsFound),
        (7, RacpResponseCode::AbortUnsuccessful),
        (8, RacpResponseCode::ProcedureNotCompleted),
        (9, RacpResponseCode::OperandNotSupported),
    ];
    for raw in 0u8..=255 {
        let expected = named
            .iter()
            .find(|(n, _)| *n == raw)
            .map(|(_, c)| *c)
            .unwrap_or(RacpResponseCode::Reserved(raw));
        assert_eq!(RacpResponseCode::from_raw(raw), expected);
        assert_eq!(expected.raw(), raw);
        for request_op_code in [1u8, 2, 3, 4, 0x7F] {
            assert_eq!(
                decode_response(&[0x06, 0x00, request_op_code, raw]),
                Ok(RacpResponse::ResponseCode {
                    request_op_code,
                    code: expected
                })
            );
        }
    }
    // Literal: "report stored records: no records found".
    assert_eq!(
        decode_response(&[0x06, 0x00, 0x01, 0x06]),
        Ok(RacpResponse::ResponseCode {
            request_op_code: 1,
            code: RacpResponseCode::NoRecordsFound
        })
    );
}

#[test]
fn malformed_responses_are_refused_by_field() {
    for op_code in 1u8..=4 {
        let err = decode_response(&[op_code, 0x01]).expect_err("a request");
        assert!(inconsistent(&err), "{op_code}");
        assert_eq!((err.field, err.offset), ("Op Code", 0));
    }
    for op_code in [0u8, 7, 0x80, 0xFF] {
        assert_eq!(
            decode_response(&[op_code, 0x00, 0x00, 0x00]),
            Err(DecodeError::new(
                "Op Code",
                0,
                DecodeProblem::Reserved {
                    raw: u32::from(op_code)
                }
            ))
        );
    }
    for operator in 1u8..=7 {
        for bytes in [[0x05, operator, 0x01, 0x00], [0x06, operator, 0x01, 0x01]] {
            let err = decode_response(&bytes).expect_err("non-null operator");
            assert!(inconsistent(&err), "{bytes:02X?}");
            assert_eq!((err.field, err.offset), ("Operator", 1));
        }
    }
    let longest_count = [0x05, 0x00, 0x2A, 0x01];
    let longest_code = [0x06, 0x00, 0x01, 0x01];
    for len in 0..4 {
        let expected = match len {
            0 => truncated("Op Code", 0, 1, 0),
            1 => truncated("Operator", 1, 1, 0),
            n => truncated("Operand", 2, 2, n - 2),
        };
        assert_eq!(decode_response(&longest_count[..len]), Err(expected));
        let expected = match len {
            0 => truncated("Op Code", 0, 1, 0),
            1 => truncated("Operator", 1, 1, 0),
            2 => truncated("Operand", 2, 1, 0),
            _ => truncated("Operand", 3, 1, 0),
        };
        assert_eq!(decode_response(&longest_code[..len]), Err(expected));
    }
    for bytes in [
        [0x05, 0x00, 0x2A, 0x01, 0x00],
        [0x06, 0x00, 0x01, 0x01, 0x00],
    ] {
        assert_eq!(decode_response(&bytes), Err(trailing("Operand", 4, 1)));
    }
}

// ---------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------

/// A Glucose Measurement: sequence `seq`, 2025-11-03 07:`seq`:00, 0xB065 (101 mg/dL)
/// capillary whole blood from a finger; `context` sets flag bit 4.
fn measurement(seq: u16, context: bool) -> Vec<u8> {
    let flags = 0x02 | if context { 0x10 } else { 0x00 };
    let [lo, hi] = seq.to_le_bytes();
    let minute = (seq % 60) as u8;
    vec![
        flags, lo, hi, 0xE9, 0x07, 0x0B, 0x03, 0x07, minute, 0x00, 0x65, 0xB0, 0x11,
    ]
}

/// A Glucose Measurement Context for `seq`: preprandial.
fn context(seq: u16) -> Vec<u8> {
    let [lo, hi] = seq.to_le_bytes();
    vec![0x02, lo, hi, 0x01]
}

const SUCCESS: [u8; 4] = [0x06, 0x00, 0x01, 0x01];
const NO_RECORDS: [u8; 4] = [0x06, 0x00, 0x01, 0x06];

#[test]
fn a_session_collects_records_in_order_until_success() {
    let (mut session, request) = GlucoseSession::start(RacpFilter::AtLeast(40));
    assert_eq!(request, vec![0x01, 0x03, 0x01, 0x28, 0x00]);
    assert_eq!(
        decode_request(&request),
        Ok(RacpRequest::ReportStoredRecords(RacpFilter::AtLeast(40)))
    );
    assert_eq!(session.outcome(), None);
    // Five measurements, three with a context right after, two without.
    let sent: Vec<(Characteristic, Vec<u8>)> = vec![
        (Characteristic::GlucoseMeasurement, measurement(40, true)),
        (Characteristic::GlucoseMeasurementContext, context(40)),
        (Characteristic::GlucoseMeasurement, measurement(41, false)),
        (Characteristic::GlucoseMeasurement, measurement(42, true)),
        (Characteristic::GlucoseMeasurementContext, context(42)),
        (Characteristic::GlucoseMeasurement, measurement(43, false)),
        (Characteristic::GlucoseMeasurement, measurement(44, true)),
        (Characteristic::GlucoseMeasurementContext, context(44)),
    ];
    for (characteristic, bytes) in &sent {
        assert_eq!(
            session.receive(*characteristic, bytes),
            Ok(SessionStep::Continue)
        );
    }
    assert_eq!(
        session.receive(Characteristic::RecordAccessControlPoint, &SUCCESS),
        Ok(SessionStep::Done(RacpResponseCode::Success))
    );
    assert_eq!(session.outcome(), Some(RacpResponseCode::Success));
    // Nothing after the answer.
    let late = session
        .receive(Characteristic::GlucoseMeasurement, &measurement(45, false))
        .expect_err("after done");
    assert!(inconsistent(&late));
    let late = session
        .receive(Characteristic::RecordAccessControlPoint, &SUCCESS)
        .expect_err("a second answer");
    assert!(inconsistent(&late));
    let records = session.into_records();
    assert_eq!(records, sent);
    // The kept bytes decode to the records, in sequence order.
    let sequence_numbers: Vec<u16> = records
        .iter()
        .map(|(c, b)| match c {
            Characteristic::GlucoseMeasurement => {
                decode_measurement(b).expect("measurement").sequence_number
            }
            _ => decode_context(b).expect("context").sequence_number,
        })
        .collect();
    assert_eq!(sequence_numbers, vec![40, 40, 41, 42, 42, 43, 44, 44]);
}

#[test]
fn a_session_with_no_records() {
    let (mut session, request) = GlucoseSession::start(RacpFilter::All);
    assert_eq!(request, vec![0x01, 0x01]);
    assert_eq!(
        session.receive(Characteristic::RecordAccessControlPoint, &NO_RECORDS),
        Ok(SessionStep::Done(RacpResponseCode::NoRecordsFound))
    );
    assert_eq!(session.outcome(), Some(RacpResponseCode::NoRecordsFound));
    assert!(session.into_records().is_empty());
}

#[test]
fn a_session_ends_on_an_unsuccessful_answer_too() {
    let (mut session, _) = GlucoseSession::start(RacpFilter::Within(1, 9));
    assert_eq!(
        session.receive(Characteristic::GlucoseMeasurement, &measurement(1, false)),
        Ok(SessionStep::Continue)
    );
    assert_eq!(
        session.receive(
            Characteristic::RecordAccessControlPoint,
            &[0x06, 0x00, 0x01, 0x08]
        ),
        Ok(SessionStep::Done(RacpResponseCode::ProcedureNotCompleted))
    );
    assert_eq!(session.into_records().len(), 1);
}

#[test]
fn contexts_that_match_no_announced_measurement_are_inconsistent() {
    // A context with no measurement at all.
    let (mut session, _) = GlucoseSession::start(RacpFilter::All);
    let err = session
        .receive(Characteristic::GlucoseMeasurementContext, &context(7))
        .expect_err("orphan context");
    assert!(inconsistent(&err));
    assert_eq!((err.field, err.offset), ("Sequence Number", 1));

    // A context for another sequence number than the measurements received.
    let (mut session, _) = GlucoseSession::start(RacpFilter::All);
    session
        .receive(Characteristic::GlucoseMeasurement, &measurement(7, true))
        .expect("measurement");
    let err = session
        .receive(Characteristic::GlucoseMeasurementContext, &context(8))
        .expect_err("wrong sequence number");
    assert!(inconsistent(&err));
    // The refusal changed nothing: the right context still fits.
    assert_eq!(
        session.receive(Characteristic::GlucoseMeasurementContext, &context(7)),
        Ok(SessionStep::Continue)
    );
    // A second context for the same measurement.
    let err = session
        .receive(Characteristic::GlucoseMeasurementContext, &context(7))
        .expect_err("duplicate context");
    assert!(inconsistent(&err));
    assert_eq!(session.into_records().len(), 2);

    // A context for a measurement that did not announce one.
    let (mut session, _) = GlucoseSession::start(RacpFilter::All);
    session
        .receive(Characteristic::GlucoseMeasurement, &measurement(9, false))
        .expect("measurement");
    let err = session
        .receive(Characteristic::GlucoseMeasurementContext, &context(9))
        .expect_err("not announced");
    assert!(inconsistent(&err));

    // A context for an earlier announced measurement arriving late still matches.
    let (mut session, _) = GlucoseSession::start(RacpFilter::All);
    session
        .receive(Characteristic::GlucoseMeasurement, &measurement(1, true))
        .expect("measurement");
    session
        .receive(Characteristic::GlucoseMeasurement, &measurement(2, false))
        .expect("measurement");
    assert_eq!(
        session.receive(Characteristic::GlucoseMeasurementContext, &context(1)),
        Ok(SessionStep::Continue)
    );
}

#[test]
fn a_session_refuses_garbage_and_strangers() {
    let (mut session, _) = GlucoseSession::start(RacpFilter::All);
    // A truncated measurement: the decoder's own error.
    let short = &measurement(3, false)[..5];
    assert_eq!(
        session.receive(Characteristic::GlucoseMeasurement, short),
        Err(truncated("Base Time", 3, 7, 2))
    );
    // A context with a trailing byte.
    let mut long = context(3);
    long.push(0);
    let err = session
        .receive(Characteristic::GlucoseMeasurementContext, &long)
        .expect_err("trailing");
    assert_eq!(err.problem, DecodeProblem::TrailingBytes { extra: 1 });
    // Another characteristic.
    let err = session
        .receive(Characteristic::WeightMeasurement, &[0x00, 0x10, 0x27])
        .expect_err("weight");
    assert!(inconsistent(&err));
    // A control-point request echoed back, a count, an answer to another request.
    let err = session
        .receive(Characteristic::RecordAccessControlPoint, &[0x01, 0x01])
        .expect_err("request op code");
    assert!(inconsistent(&err));
    let err = session
        .receive(
            Characteristic::RecordAccessControlPoint,
            &[0x05, 0x00, 0x03, 0x00],
        )
        .expect_err("a count");
    assert!(inconsistent(&err));
    let err = session
        .receive(
            Characteristic::RecordAccessControlPoint,
            &[0x06, 0x00, 0x04, 0x01],
        )
        .expect_err("answer to op code 4");
    assert!(inconsistent(&err));
    // None of that was kept, and the session goes on.
    assert_eq!(
        session.receive(Characteristic::GlucoseMeasurement, &measurement(3, false)),
        Ok(SessionStep::Continue)
    );
    assert_eq!(
        session.receive(Characteristic::RecordAccessControlPoint, &SUCCESS),
        Ok(SessionStep::Done(RacpResponseCode::Success))
    );
    assert_eq!(
        session.into_records(),
        vec![(Characteristic::GlucoseMeasurement, measurement(3, false))]
    );
}

#[test]
fn racp_decoders_never_panic() {
    for len in 0..=8usize {
        for fill in [0x00u8, 0x01, 0x04, 0x06, 0xFF] {
            let bytes = vec![fill; len];
            let _ = decode_request(&bytes);
            let _ = decode_response(&bytes);
            let (mut s, _) = GlucoseSession::start(RacpFilter::All);
            for c in [
                Characteristic::GlucoseMeasurement,
                Characteristic::GlucoseMeasurementContext,
                Characteristic::RecordAccessControlPoint,
                Characteristic::DateTime,
            ] {
                let _ = s.receive(c, &bytes);
            }
        }
    }
}

fn any_filter() -> impl proptest::strategy::Strategy<Value = RacpFilter> {
    use proptest::prelude::*;
    prop_oneof![
        Just(RacpFilter::All),
        Just(RacpFilter::First),
        Just(RacpFilter::Last),
        any::<u16>().prop_map(RacpFilter::AtMost),
        any::<u16>().prop_map(RacpFilter::AtLeast),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| RacpFilter::Within(a.min(b), a.max(b))),
    ]
}

proptest::proptest! {
    #[test]
    fn arbitrary_valid_requests_round_trip(filter in any_filter(), op in 0u8..4) {
        let request = match op {
            0 => RacpRequest::ReportStoredRecords(filter),
            1 => RacpRequest::DeleteStoredRecords(filter),
            2 => RacpRequest::ReportNumberOfStoredRecords(filter),
            _ => RacpRequest::Abort,
        };
        proptest::prop_assert_eq!(decode_request(&request.encode()), Ok(request));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..12)) {
        let _ = decode_request(&bytes);
        let _ = decode_response(&bytes);
        let (mut session, _) = GlucoseSession::start(RacpFilter::All);
        let _ = session.receive(Characteristic::GlucoseMeasurement, &bytes);
        let _ = session.receive(Characteristic::GlucoseMeasurementContext, &bytes);
        let _ = session.receive(Characteristic::RecordAccessControlPoint, &bytes);
    }
}
