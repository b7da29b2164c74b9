//! The Record Access Control Point (0x2A52) of the Glucose Service: the requests a
//! shell writes to fetch a meter's stored records, the device's responses, and a
//! [`GlucoseSession`] that follows one "report stored records" exchange.
//!
//! Layout of both directions: Op Code (`uint8`), Operator (`uint8`), Operand. Op codes:
//! 1 report stored records, 2 delete stored records, 3 abort operation, 4 report
//! number of stored records, 5 number of stored records response (operand `uint16`),
//! 6 response code (operand: request op code `uint8`, response code value `uint8`).
//! Operators: 0 null, 1 all records, 2 ≤, 3 ≥, 4 within range (inclusive), 5 first
//! record, 6 last record. Filtered operators carry a Filter Type (`uint8`, 1 =
//! sequence number) and one or two `uint16` sequence numbers.

use serde::Serialize;

use super::bytes::Reader;
use super::error::{DecodeError, DecodeProblem};
use super::{Characteristic, glucose};

/// Op code 1: Report Stored Records.
pub const OP_REPORT_STORED_RECORDS: u8 = 1;
/// Op code 2: Delete Stored Records.
pub const OP_DELETE_STORED_RECORDS: u8 = 2;
/// Op code 3: Abort Operation.
pub const OP_ABORT: u8 = 3;
/// Op code 4: Report Number of Stored Records.
pub const OP_REPORT_NUMBER_OF_STORED_RECORDS: u8 = 4;
/// Op code 5: Number of Stored Records Response.
pub const OP_NUMBER_OF_STORED_RECORDS_RESPONSE: u8 = 5;
/// Op code 6: Response Code.
pub const OP_RESPONSE_CODE: u8 = 6;

/// Operator 0: Null.
const OPERATOR_NULL: u8 = 0;
/// Operator 1: All records.
const OPERATOR_ALL: u8 = 1;
/// Operator 2: Less than or equal to.
const OPERATOR_AT_MOST: u8 = 2;
/// Operator 3: Greater than or equal to.
const OPERATOR_AT_LEAST: u8 = 3;
/// Operator 4: Within range of (inclusive).
const OPERATOR_WITHIN: u8 = 4;
/// Operator 5: First record.
const OPERATOR_FIRST: u8 = 5;
/// Operator 6: Last record.
const OPERATOR_LAST: u8 = 6;
/// Filter Type 1: sequence number (the only one Nära uses).
const FILTER_SEQUENCE_NUMBER: u8 = 1;

/// Which stored records a request is about, by sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RacpFilter {
    /// Operator 1.
    All,
    /// Operator 2: sequence number ≤ the value.
    AtMost(u16),
    /// Operator 3: sequence number ≥ the value (the usual "since last import").
    AtLeast(u16),
    /// Operator 4: inclusive range.
    Within(u16, u16),
    /// Operator 5.
    First,
    /// Operator 6.
    Last,
}

/// A request the shell writes to the control point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RacpRequest {
    /// Op code 1: notify the records.
    ReportStoredRecords(RacpFilter),
    /// Op code 2: delete them on the device.
    DeleteStoredRecords(RacpFilter),
    /// Op code 3: stop the running request.
    Abort,
    /// Op code 4: how many records match.
    ReportNumberOfStoredRecords(RacpFilter),
}

/// Response Code Values (op code 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RacpResponseCode {
    /// 1.
    Success,
    /// 2.
    OpCodeNotSupported,
    /// 3.
    InvalidOperator,
    /// 4.
    OperatorNotSupported,
    /// 5.
    InvalidOperand,
    /// 6.
    NoRecordsFound,
    /// 7.
    AbortUnsuccessful,
    /// 8.
    ProcedureNotCompleted,
    /// 9.
    OperandNotSupported,
    /// 0 and 10–255.
    Reserved(u8),
}

/// A response the device indicates on the control point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RacpResponse {
    /// Op code 5.
    NumberOfStoredRecords(u16),
    /// Op code 6.
    ResponseCode {
        /// The op code of the request this answers.
        request_op_code: u8,
        /// The outcome.
        code: RacpResponseCode,
    },
}

impl RacpRequest {
    /// The bytes to write to the control point.
    ///
    /// A [`RacpFilter::Within`] whose start is after its end is written as given
    /// (the device answers [`RacpResponseCode::InvalidOperand`]);
    /// [`decode_request`] refuses it.
    pub fn encode(&self) -> Vec<u8> {
        let (op_code, filter) = match *self {
            RacpRequest::ReportStoredRecords(f) => (OP_REPORT_STORED_RECORDS, f),
            RacpRequest::DeleteStoredRecords(f) => (OP_DELETE_STORED_RECORDS, f),
            RacpRequest::ReportNumberOfStoredRecords(f) => (OP_REPORT_NUMBER_OF_STORED_RECORDS, f),
            RacpRequest::Abort => return vec![OP_ABORT, OPERATOR_NULL],
        };
        let mut out = vec![op_code, filter.operator()];
        match filter {
            RacpFilter::AtMost(n) | RacpFilter::AtLeast(n) => {
                out.push(FILTER_SEQUENCE_NUMBER);
                out.extend_from_slice(&n.to_le_bytes());
            }
            RacpFilter::Within(start, end) => {
                out.push(FILTER_SEQUENCE_NUMBER);
                out.extend_from_slice(&start.to_le_bytes());
                out.extend_from_slice(&end.to_le_bytes());
            }
            RacpFilter::All | RacpFilter::First | RacpFilter::Last => {}
        }
        out
    }
}

impl RacpFilter {
    /// The Operator value of this filter (1–6).
    pub fn operator(self) -> u8 {
        match self {
            RacpFilter::All => OPERATOR_ALL,
            RacpFilter::AtMost(_) => OPERATOR_AT_MOST,
            RacpFilter::AtLeast(_) => OPERATOR_AT_LEAST,
            RacpFilter::Within(..) => OPERATOR_WITHIN,
            RacpFilter::First => OPERATOR_FIRST,
            RacpFilter::Last => OPERATOR_LAST,
        }
    }
}

impl RacpResponseCode {
    /// The Response Code Value for `raw` (0 and 10–255 are [`Self::Reserved`]).
    pub fn from_raw(raw: u8) -> Self {
        match raw {
            1 => Self::Success,
            2 => Self::OpCodeNotSupported,
            3 => Self::InvalidOperator,
            4 => Self::OperatorNotSupported,
            5 => Self::InvalidOperand,
            6 => Self::NoRecordsFound,
            7 => Self::AbortUnsuccessful,
            8 => Self::ProcedureNotCompleted,
            9 => Self::OperandNotSupported,
            other => Self::Reserved(other),
        }
    }

    /// The raw Response Code Value.
    pub fn raw(self) -> u8 {
        match self {
            Self::Success => 1,
            Self::OpCodeNotSupported => 2,
            Self::InvalidOperator => 3,
            Self::OperatorNotSupported => 4,
            Self::InvalidOperand => 5,
            Self::NoRecordsFound => 6,
            Self::AbortUnsuccessful => 7,
            Self::ProcedureNotCompleted => 8,
            Self::OperandNotSupported => 9,
            Self::Reserved(raw) => raw,
        }
    }
}

fn inconsistent(field: &'static str, offset: usize, detail: &'static str) -> DecodeError {
    DecodeError::new(field, offset, DecodeProblem::Inconsistent { detail })
}

fn reserved(field: &'static str, offset: usize, raw: u8) -> DecodeError {
    DecodeError::new(
        field,
        offset,
        DecodeProblem::Reserved {
            raw: u32::from(raw),
        },
    )
}

/// Reads the operator and its operand of a request that selects records.
fn read_filter(r: &mut Reader<'_>) -> Result<RacpFilter, DecodeError> {
    let operator_at = r.offset();
    let operator = r.u8("Operator")?;
    let filter = match operator {
        OPERATOR_ALL => RacpFilter::All,
        OPERATOR_FIRST => RacpFilter::First,
        OPERATOR_LAST => RacpFilter::Last,
        OPERATOR_AT_MOST | OPERATOR_AT_LEAST | OPERATOR_WITHIN => {
            let filter_type_at = r.offset();
            let filter_type = r.u8("Operand")?;
            if filter_type != FILTER_SEQUENCE_NUMBER {
                return Err(reserved("Operand", filter_type_at, filter_type));
            }
            match operator {
                OPERATOR_AT_MOST => RacpFilter::AtMost(r.u16("Operand")?),
                OPERATOR_AT_LEAST => RacpFilter::AtLeast(r.u16("Operand")?),
                _ => {
                    let start = r.u16("Operand")?;
                    let end = r.u16("Operand")?;
                    if start > end {
                        return Err(inconsistent(
                            "Operand",
                            filter_type_at,
                            "the range starts after it ends",
                        ));
                    }
                    RacpFilter::Within(start, end)
                }
            }
        }
        OPERATOR_NULL => {
            return Err(inconsistent(
                "Operator",
                operator_at,
                "this op code needs an operator that selects records, not null",
            ));
        }
        other => return Err(reserved("Operator", operator_at, other)),
    };
    Ok(filter)
}

/// Reads an Operator that must be Null (abort and the two responses).
fn read_null_operator(r: &mut Reader<'_>, detail: &'static str) -> Result<(), DecodeError> {
    let at = r.offset();
    match r.u8("Operator")? {
        OPERATOR_NULL => Ok(()),
        _ => Err(inconsistent("Operator", at, detail)),
    }
}

/// Decodes a request (what a shell wrote; for tools and tests).
///
/// A response op code (5, 6) or a non-null operator with Abort is
/// [`DecodeProblem::Inconsistent`], as is a null operator where records must be
/// selected and a range that starts after it ends; op code 0 and 7–255, operators
/// 7–255 and filter types other than 1 (sequence number) are
/// [`DecodeProblem::Reserved`].
pub fn decode_request(bytes: &[u8]) -> Result<RacpRequest, DecodeError> {
    let mut r = Reader::new(bytes);
    let op_code = r.u8("Op Code")?;
    let request = match op_code {
        OP_REPORT_STORED_RECORDS
        | OP_DELETE_STORED_RECORDS
        | OP_REPORT_NUMBER_OF_STORED_RECORDS => {
            let filter = read_filter(&mut r)?;
            match op_code {
                OP_REPORT_STORED_RECORDS => RacpRequest::ReportStoredRecords(filter),
                OP_DELETE_STORED_RECORDS => RacpRequest::DeleteStoredRecords(filter),
                _ => RacpRequest::ReportNumberOfStoredRecords(filter),
            }
        }
        OP_ABORT => {
            read_null_operator(&mut r, "abort takes the null operator")?;
            RacpRequest::Abort
        }
        OP_NUMBER_OF_STORED_RECORDS_RESPONSE | OP_RESPONSE_CODE => {
            return Err(inconsistent(
                "Op Code",
                0,
                "a response op code where a request was expected",
            ));
        }
        other => return Err(reserved("Op Code", 0, other)),
    };
    r.finish()?;
    Ok(request)
}

/// Decodes a response from the device. A request op code (1–4) here is
/// [`super::DecodeProblem::Inconsistent`], as is an operator other than null; op
/// code 0 and 7–255 are [`DecodeProblem::Reserved`]. The Request Op Code of a
/// response code is kept as sent (the device may be answering an op code it does not
/// support).
pub fn decode_response(bytes: &[u8]) -> Result<RacpResponse, DecodeError> {
    let mut r = Reader::new(bytes);
    let op_code = r.u8("Op Code")?;
    let response = match op_code {
        OP_NUMBER_OF_STORED_RECORDS_RESPONSE => {
            read_null_operator(&mut r, "a response takes the null operator")?;
            RacpResponse::NumberOfStoredRecords(r.u16("Operand")?)
        }
        OP_RESPONSE_CODE => {
            read_null_operator(&mut r, "a response takes the null operator")?;
            let request_op_code = r.u8("Operand")?;
            let code = RacpResponseCode::from_raw(r.u8("Operand")?);
            RacpResponse::ResponseCode {
                request_op_code,
                code,
            }
        }
        OP_REPORT_STORED_RECORDS
        | OP_DELETE_STORED_RECORDS
        | OP_ABORT
        | OP_REPORT_NUMBER_OF_STORED_RECORDS => {
            return Err(inconsistent(
                "Op Code",
                0,
                "a request op code where a response was expected",
            ));
        }
        other => return Err(reserved("Op Code", 0, other)),
    };
    r.finish()?;
    Ok(response)
}

/// What the session needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStep {
    /// Keep passing notifications.
    Continue,
    /// The device answered the request: the records collected so far are all.
    Done(RacpResponseCode),
}

/// One "report stored records" exchange: the request to write, then every
/// notification (Glucose Measurement, Glucose Measurement Context) and indication
/// (control point) passed in as it arrives, until the device's response code.
#[derive(Debug, Clone, Default)]
pub struct GlucoseSession {
    records: Vec<(Characteristic, Vec<u8>)>,
    done: Option<RacpResponseCode>,
}

impl GlucoseSession {
    /// A session for `filter`, and the request bytes the shell writes.
    pub fn start(filter: RacpFilter) -> (Self, Vec<u8>) {
        (
            Self::default(),
            RacpRequest::ReportStoredRecords(filter).encode(),
        )
    }

    /// Takes one value from the device. Measurement and context values are decoded (to
    /// refuse garbage early) and kept as bytes for the import; a control-point value
    /// ends the session.
    ///
    /// Refused, leaving the session as it was: a value that does not decode (the
    /// decoder's error); any value once the device answered; a characteristic other
    /// than those three; a context whose sequence number is not that of a measurement
    /// received earlier in this session announcing one (or whose context already came);
    /// a control-point value other than a response code to Report Stored Records.
    /// Every response code to Report Stored Records ends the session, successful or
    /// not: [`SessionStep::Done`] says which.
    pub fn receive(
        &mut self,
        characteristic: Characteristic,
        bytes: &[u8],
    ) -> Result<SessionStep, DecodeError> {
        if self.done.is_some() {
            return Err(inconsistent(
                characteristic.name(),
                0,
                "a value arrived after the device ended the session",
            ));
        }
        match characteristic {
            Characteristic::GlucoseMeasurement => {
                glucose::decode_measurement(bytes)?;
            }
            Characteristic::GlucoseMeasurementContext => {
                let context = glucose::decode_context(bytes)?;
                self.check_context(context.sequence_number)?;
            }
            Characteristic::RecordAccessControlPoint => {
                return match decode_response(bytes)? {
                    RacpResponse::ResponseCode {
                        request_op_code: OP_REPORT_STORED_RECORDS,
                        code,
                    } => {
                        self.done = Some(code);
                        Ok(SessionStep::Done(code))
                    }
                    RacpResponse::ResponseCode { .. } => Err(inconsistent(
                        "Operand",
                        2,
                        "a response to a request this session did not make",
                    )),
                    RacpResponse::NumberOfStoredRecords(_) => Err(inconsistent(
                        "Op Code",
                        0,
                        "a record count, which this session did not ask for",
                    )),
                };
            }
            other => {
                return Err(inconsistent(
                    other.name(),
                    0,
                    "not part of a glucose record transfer",
                ));
            }
        }
        self.records.push((characteristic, bytes.to_vec()));
        Ok(SessionStep::Continue)
    }

    /// Refuses a context unless the latest measurement with its sequence number came
    /// in this session, announced a context, and has not had it yet.
    fn check_context(&self, sequence_number: u16) -> Result<(), DecodeError> {
        // Sequence Number follows the one-byte Flags.
        const AT: usize = 1;
        for (characteristic, bytes) in self.records.iter().rev() {
            match characteristic {
                Characteristic::GlucoseMeasurement => {
                    let Ok(m) = glucose::decode_measurement(bytes) else {
                        continue;
                    };
                    if m.sequence_number == sequence_number {
                        return if m.context_follows {
                            Ok(())
                        } else {
                            Err(inconsistent(
                                "Sequence Number",
                                AT,
                                "a context for a measurement that announced none",
                            ))
                        };
                    }
                }
                Characteristic::GlucoseMeasurementContext => {
                    let Ok(c) = glucose::decode_context(bytes) else {
                        continue;
                    };
                    if c.sequence_number == sequence_number {
                        return Err(inconsistent(
                            "Sequence Number",
                            AT,
                            "a second context for the same measurement",
                        ));
                    }
                }
                _ => {}
            }
        }
        Err(inconsistent(
            "Sequence Number",
            AT,
            "a context for no measurement received in this session",
        ))
    }

    /// The device's final answer, once it came.
    pub fn outcome(&self) -> Option<RacpResponseCode> {
        self.done
    }

    /// The records received, in order, ready for the import.
    pub fn into_records(self) -> Vec<(Characteristic, Vec<u8>)> {
        self.records
    }
}
