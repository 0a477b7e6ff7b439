//! Fully connected layer, PyTorch layout: `y = W x + b` with `W: [out, in]`, `x: [in]`, `y: [out]`.
//! Backward: `∂L/∂x = Wᵀ g`, `∂L/∂W += g xᵀ`, `∂L/∂b += g`.

use crate::error::{Error, Result};
use crate::tensor::{axpy, dot, Tensor};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinearParams {
    pub in_features: usize,
    pub out_features: usize,
}

impl LinearParams {
    pub fn weight_shape(&self) -> [usize; 2] {
        [self.out_features, self.in_features]
    }

    fn check(&self, x: &Tensor, weight: &[f32]) -> Result<()> {
        if x.shape() != [self.in_features] {
            return Err(Error::shape("linear input", &[self.in_features], x.shape()));
        }
        if weight.len() != self.in_features * self.out_features {
            return Err(Error::shape(
                "linear weight",
                &self.weight_shape(),
                &[weight.len()],
            ));
        }
        Ok(())
    }
}

pub fn forward(p: &LinearParams, x: &Tensor, weight: &[f32], bias: &[f32]) -> Result<Tensor> {
    p.check(x, weight)?;
    if bias.len() != p.out_features {
        return Err(Error::shape(
            "linear bias",
            &[p.out_features],
            &[bias.len()],
        ));
    }
    let y = weight
        .chunks_exact(p.in_features)
        .zip(bias)
        .map(|(row, b)| b + dot(row, x.data()))
        .collect();
    Tensor::from_vec(&[p.out_features], y)
}

/// `∂L/∂x = Wᵀ g` for `g: [out]`.
pub fn backward_input(p: &LinearParams, g: &Tensor, weight: &[f32]) -> Result<Tensor> {
    if g.shape() != [p.out_features] {
        return Err(Error::shape(
            "linear output gradient",
            &[p.out_features],
            g.shape(),
        ));
    }
    let mut dx = Tensor::zeros(&[p.in_features]);
    for (row, &gv) in weight.chunks_exact(p.in_features).zip(g.data()) {
        axpy(gv, row, dx.data_mut());
    }
    Ok(dx)
}

/// `dweight += g xᵀ`, `dbias += g`.
pub fn accumulate_param_grads(
    p: &LinearParams,
    x: &Tensor,
    g: &Tensor,
    dweight: &mut [f32],
    dbias: &mut [f32],
) -> Result<()> {
    p.check(x, dweight)?;
    if g.shape() != [p.out_features] || dbias.len() != p.out_features {
        return Err(Error::shape(
            "linear output gradient",
            &[p.out_features],
            g.shape(),
        ));
    }
    for ((row, db), &gv) in dweight
        .chunks_exact_mut(p.in_features)
        .zip(dbias.iter_mut())
        .zip(g.data())
    {
        axpy(gv, x.data(), row);
        *db += gv;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_by_hand() {
        let p = LinearParams {
            in_features: 3,
            out_features: 2,
        };
        let w = [1.0, 2.0, 3.0, -1.0, 0.0, 1.0];
        let x = Tensor::from_vec(&[3], vec![1.0, 1.0, 2.0]).unwrap();
        let y = forward(&p, &x, &w, &[0.5, -0.5]).unwrap();
        assert_eq!(y.data(), &[9.5, 0.5]);
        let g = Tensor::from_vec(&[2], vec![1.0, 2.0]).unwrap();
        assert_eq!(
            backward_input(&p, &g, &w).unwrap().data(),
            &[-1.0, 2.0, 5.0]
        );
        let mut dw = [0.0; 6];
        let mut db = [0.0; 2];
        accumulate_param_grads(&p, &x, &g, &mut dw, &mut db).unwrap();
        assert_eq!(dw, [1.0, 1.0, 2.0, 2.0, 2.0, 4.0]);
        assert_eq!(db, [1.0, 2.0]);
        assert!(forward(&p, &Tensor::zeros(&[4]), &w, &[0.0, 0.0]).is_err());
        assert!(forward(&p, &x, &w[..5], &[0.0, 0.0]).is_err());
    }
}
